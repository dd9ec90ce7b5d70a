import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryStateQuery } from '../../workflows/advisory/definitions';
import { decide, seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';

let stack: Stack;
const tokens = {} as Record<'analyst' | 'manager' | 'olga' | 'carl' | 'auditor', string>;
const fast = { very_high: '3s', high: '3s', medium: '3s', low: '3s' };
const slow = { very_high: '1h', high: '1h', medium: '1h', low: '1h' };

beforeAll(async () => {
  stack = await startStack();
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.olga = await stack.token(['service_owner'], 'olga');
  tokens.carl = await stack.token(['service_owner'], 'carl');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(async () => {
  await stack?.close();
});

/** The open remediation-kind task for one CI of an advisory. */
function openTaskFor(token: string, advisoryId: string, kind: string, ciId: string, notId?: string) {
  return eventually(
    async () => {
      const items = (await stack.request('GET', `/tasks?status=open&subjectId=${advisoryId}`, { token })).body.items ?? [];
      return items.find(
        (t: { id: string; kind: string; details: { ciId?: string } }) => t.kind === kind && t.details.ciId === ciId && t.id !== notId,
      );
    },
    20_000,
    `an open ${kind} task for CI ${ciId}`,
  );
}

const advisory = {
  id: 'ADV-2026-001',
  cves: ['CVE-2026-1000'],
  title: 'OpenSSL buffer overread',
  supplier: 'OpenSSL Project',
  affected: [{ product: 'OpenSSL', versions: ['>=3.0.0 <3.0.7'], fixed: ['3.0.7'] }],
  cvss: { score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' },
  preventiveMeasures: 'Restrict TLS endpoints to known clients',
  published: '2026-11-20T00:00:00Z',
};

describe('the advisory response', () => {
  it('assigns, escalates, updates the CMDB, picks up CIs registered later, and measures patch compliance', async () => {
    const a = await seedCi(stack.db, { owner: 'olga', level: 'very_high', sla: { patchDeadlines: fast } });
    const unaffected = await seedCi(stack.db, { owner: 'olga' });
    expect(
      (
        await stack.request('PUT', `/cis/${a.ciId}/components`, {
          token: tokens.olga,
          body: {
            components: [
              { product: 'openssl', version: '3.0.2' },
              { product: 'nginx', version: '1.25.0' },
            ],
          },
        })
      ).status,
    ).toBe(200);
    await stack.request('PUT', `/cis/${unaffected.ciId}/components`, {
      token: tokens.olga,
      body: { components: [{ product: 'OpenSSL', version: '3.0.7' }] },
    });
    expect((await stack.request('PUT', `/cis/${a.ciId}/components`, { token: tokens.carl, body: { components: [] } })).status).toBe(403);

    const posted = await stack.request('POST', '/advisories', { token: tokens.analyst, body: advisory });
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({
      id: advisory.id,
      workflowId: `advisory/${advisory.id}`,
      format: 'generic',
      revision: 1,
      created: true,
    });

    // Olga misses the 3 s deadline: the Security Manager joins the task.
    const first = await openTaskFor(tokens.olga, advisory.id, 'advisory.remediation', a.ciId);
    expect(first.assignees).toEqual(['olga']);
    expect(first.details).toMatchObject({ installedVersion: '3.0.2', fixedVersions: ['3.0.7'], deadline: '3s' });
    const escalated = await eventually(
      async () => {
        const task = (await stack.request('GET', `/tasks/${first.id}`, { token: tokens.olga })).body;
        return task.escalationLevel >= 1 && task;
      },
      15_000,
      'the remediation to escalate',
    );
    expect(escalated.allowedRoles).toContain('security_manager');

    expect((await decide(stack, tokens.olga, first.id, 'patched')).status).toBe(409);
    expect((await decide(stack, tokens.olga, first.id, 'patched', { data: { version: '3.0.5' } })).status).toBe(200);
    // 3.0.5 is still affected: the task comes back saying so.
    const again = await openTaskFor(tokens.olga, advisory.id, 'advisory.remediation', a.ciId, first.id);
    expect(again.details.note).toMatch(/3\.0\.5 is still in an affected range/);
    expect((await decide(stack, tokens.olga, again.id, 'patched', { data: { version: '3.0.7' } })).status).toBe(200);
    const components = await eventually(
      async () => {
        const body = (await stack.request('GET', `/cis/${a.ciId}/components`, { token: tokens.auditor })).body;
        return body.components.find((c: { product: string; version: string }) => c.product === 'openssl' && c.version === '3.0.7') && body;
      },
      15_000,
      'the CMDB to record 3.0.7',
    );
    expect(components.components).toHaveLength(2);

    // A CI registered later with an affected component is picked up, not silently missed.
    const c = await seedCi(stack.db, { owner: 'carl', level: 'medium', sla: { patchDeadlines: slow } });
    const set = await stack.request('PUT', `/cis/${c.ciId}/components`, {
      token: tokens.carl,
      body: { components: [{ product: 'OpenSSL', version: '3.0.1' }] },
    });
    expect(set.body.rematched).toEqual([advisory.id]);
    const carlTask = await openTaskFor(tokens.carl, advisory.id, 'advisory.remediation', c.ciId);
    expect(carlTask.details.deadline).toBe('1h');

    // Carl asks for an exception; the Security Manager grants it for 2 s; it lapses and the task returns.
    expect((await decide(stack, tokens.carl, carlTask.id, 'exception_requested', { data: { expiresIn: '2s' } })).status).toBe(409);
    expect(
      (
        await decide(stack, tokens.carl, carlTask.id, 'exception_requested', {
          comment: 'vendor appliance, patch next quarter',
          data: { expiresIn: '2s' },
        })
      ).status,
    ).toBe(200);
    const exception = await openTaskFor(tokens.manager, advisory.id, 'advisory.exception', c.ciId);
    expect(exception.requester).toBe('carl');
    expect((await decide(stack, tokens.carl, exception.id, 'approved')).status).toBe(403);
    expect((await decide(stack, tokens.manager, exception.id, 'approved')).status).toBe(200);
    const afterExpiry = await openTaskFor(tokens.carl, advisory.id, 'advisory.remediation', c.ciId, carlTask.id);
    expect(afterExpiry.details.note).toMatch(/exception granted for 2s has expired/);

    // Re-posting revises the same advisory; closing is refused while Carl's remediation runs.
    const revised = await stack.request('POST', '/advisories', {
      token: tokens.analyst,
      body: { ...advisory, affected: [{ product: 'OpenSSL', versions: ['>=3.0.0 <3.0.7', '1.1.1t'], fixed: ['3.0.7'] }] },
    });
    expect(revised.body).toMatchObject({ revision: 2, created: false });
    expect(
      (await stack.request('GET', '/advisories', { token: tokens.auditor })).body.items.filter((x: { id: string }) => x.id === advisory.id),
    ).toHaveLength(1);
    const refused = await stack.request('POST', `/advisories/${advisory.id}/close`, { token: tokens.manager, body: { reason: 'done' } });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/still running/);

    expect(
      (await decide(stack, tokens.carl, afterExpiry.id, 'mitigated', { data: { measure: 'TLS endpoint firewalled to the VPN range' } }))
        .status,
    ).toBe(200);
    const detail = await eventually(
      async () => {
        const body = (await stack.request('GET', `/advisories/${advisory.id}`, { token: tokens.auditor })).body;
        return body.remediations.mitigated === 1 && body;
      },
      15_000,
      'the remediations to settle',
    );
    expect(detail).toMatchObject({ revision: 2, status: 'open', remediations: { patched: 1, mitigated: 1 }, aliases: ['CVE-2026-1000'] });
    const byCi = Object.fromEntries(detail.remediationDetails.map((r: { ciId: string }) => [r.ciId, r]));
    expect(byCi[a.ciId]).toMatchObject({
      owner: 'olga',
      status: 'patched',
      installedVersion: '3.0.7',
      deadline: '3s',
      resolution: { version: '3.0.7' },
    });
    expect(byCi[a.ciId].escalations).toBeGreaterThanOrEqual(1);
    expect(byCi[c.ciId]).toMatchObject({
      owner: 'carl',
      status: 'mitigated',
      resolution: { measure: 'TLS endpoint firewalled to the VPN range' },
    });
    expect(byCi[unaffected.ciId]).toBeUndefined();

    // Olga's service: due in the period, patched late (0 %). Carl's: due within the hour, mitigated on time (100 %).
    const to = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const compliance = (await stack.request('GET', `/kpis/patch-compliance?to=${encodeURIComponent(to)}`, { token: tokens.auditor })).body;
    const byService = Object.fromEntries(compliance.services.map((s: { serviceId: string }) => [s.serviceId, s]));
    expect(byService[a.serviceId]).toMatchObject({ due: 1, doneOnTime: 0, percentage: 0 });
    expect(byService[c.serviceId]).toMatchObject({ due: 1, doneOnTime: 1, percentage: 100 });

    // Rows are written before the workflow hears its activities finished: close once the workflow
    // itself counts no remediation as running (what the close Update's validator checks).
    await eventually(
      async () =>
        (await stack.temporal.client.workflow.getHandle(`advisory/${advisory.id}`).query(advisoryStateQuery)).activeRemediations.length ===
        0,
      20_000,
      'the workflow to see every remediation done',
    );
    const closed = await stack.request('POST', `/advisories/${advisory.id}/close`, {
      token: tokens.manager,
      body: { reason: 'all CIs remediated' },
    });
    expect(closed.status).toBe(200);
    await eventually(
      async () => (await stack.request('GET', `/advisories/${advisory.id}`, { token: tokens.auditor })).body.status === 'closed',
      15_000,
      'the advisory to close',
    );
    expect((await stack.request('POST', '/advisories', { token: tokens.analyst, body: advisory })).status).toBe(409);
  });

  it('rejects malformed advisories whole with the reason', async () => {
    const bad = await stack.request('POST', '/advisories?format=csaf', {
      token: tokens.analyst,
      body: { document: { csaf_version: '2.0' } },
    });
    expect(bad.status).toBe(400);
    // The official CSAF 2.0 schema answers first, with the first field it misses (CSAF requires
    // document.category, publisher, title and tracking).
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['body.document.category']);
    expect(
      (await stack.request('GET', '/advisories', { token: tokens.auditor })).body.items.map((x: { id: string }) => x.id),
    ).not.toContain(undefined);
    expect((await stack.request('POST', '/advisories', { token: tokens.olga, body: advisory })).status).toBe(403);
  });
});
