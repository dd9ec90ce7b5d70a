import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';

let stack: Stack;
const tokens = {} as Record<'analyst' | 'manager' | 'olga' | 'sven' | 'auditor', string>;

beforeAll(async () => {
  stack = await startStack();
  tokens.analyst = await stack.token(['security_analyst'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.olga = await stack.token(['service_owner'], 'olga');
  tokens.sven = await stack.token(['service_owner'], 'sven');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(async () => {
  await stack?.close();
});

const alertView = (id: string) => stack.request('GET', `/security-alerts/${id}`, { token: tokens.auditor });
const recipients = (list: { recipient: string }[]) => list.map((r) => r.recipient).sort();

describe('security alerts', () => {
  it('broadcasts to CI and service owners and audience roles, and shows who has acknowledged', async () => {
    const olgas = await seedCi(stack.db, { owner: 'olga' });
    const svens = await seedCi(stack.db, { owner: 'sven' });
    const body = {
      title: 'Phishing wave against finance',
      threat: 'Credential phishing mails impersonating the CFO',
      affectedCis: [olgas.ciId],
      affectedServices: [svens.serviceId],
      actions: ['Warn your teams', 'Report suspicious mails'],
      audience: ['security_analyst'],
    };

    expect((await stack.request('POST', '/security-alerts', { token: tokens.analyst, body })).status).toBe(403);
    const unknown = await stack.request('POST', '/security-alerts', {
      token: tokens.manager,
      body: { ...body, affectedCis: ['00000000-0000-4000-8000-000000000000'] },
    });
    expect(unknown.body.errors).toEqual([{ path: 'body.affectedCis.0', message: expect.stringContaining('no configuration item') }]);

    const raised = await stack.request('POST', '/security-alerts', { token: tokens.manager, body });
    expect(raised.status).toBe(202);
    const id: string = raised.body.id;
    expect(raised.body.workflowId).toBe(`security-alert/${id}`);

    const before = await eventually(
      async () => {
        const view = await alertView(id);
        return view.status === 200 && view.body;
      },
      15_000,
      'the alert to be recorded',
    );
    expect(recipients(before.pending)).toEqual(['principal:olga', 'principal:sven', 'role:security_analyst']);
    expect(before.acknowledged).toEqual([]);

    const olgaTask = await openTask(stack, tokens.olga, id, 'security-alert.acknowledge');
    expect(olgaTask.assignees).toEqual(['olga']);
    expect((await decide(stack, tokens.olga, olgaTask.id, 'acknowledged')).status).toBe(200);
    const roleTask = await openTask(stack, tokens.analyst, id, 'security-alert.acknowledge');
    expect(roleTask.allowedRoles).toEqual(['security_analyst']);
    expect((await decide(stack, tokens.analyst, roleTask.id, 'acknowledged')).status).toBe(200);

    const after = await eventually(
      async () => {
        const view = (await alertView(id)).body;
        return view.acknowledged.length === 2 && view;
      },
      15_000,
      'two acknowledgements',
    );
    expect(after.acknowledged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ recipient: 'principal:olga', acknowledgedBy: 'olga' }),
        expect.objectContaining({ recipient: 'role:security_analyst', acknowledgedBy: 'ana' }),
      ]),
    );
    expect(recipients(after.pending)).toEqual(['principal:sven']);

    // Each recipient was told the threat and what to do.
    const notifications = (await stack.request('GET', `/notifications?subject=${id}`, { token: tokens.auditor })).body.items;
    expect(notifications).toHaveLength(3);
    for (const notification of notifications) {
      expect(notification.body).toContain('Threat: Credential phishing mails impersonating the CFO');
      expect(notification.body).toContain('- Report suspicious mails');
    }
  });

  it('proposes an alert for a critical advisory to the Security Manager instead of sending one', async () => {
    const ci = await seedCi(stack.db, { owner: 'olga' });
    await stack.request('PUT', `/cis/${ci.ciId}/components`, {
      token: tokens.olga,
      body: { components: [{ product: 'gateway', version: '4.1.0' }] },
    });
    const advisoryId = 'ADV-CRIT-1';
    const posted = await stack.request('POST', '/advisories', {
      token: tokens.analyst,
      body: {
        id: advisoryId,
        title: 'Gateway RCE',
        affected: [{ product: 'Gateway', versions: ['>=4.0.0 <4.2.1'], fixed: ['4.2.1'] }],
        cvss: { score: 9.8 },
        preventiveMeasures: 'Block port 8443',
      },
    });
    expect(posted.status).toBe(202);

    const proposal = await openTask(stack, tokens.manager, advisoryId, 'advisory.alert-proposal');
    expect(proposal.details).toMatchObject({ cvssScore: 9.8, affectedCis: [ci.ciId] });
    // Critical: the remediation deadline is half the SLA's 7 d for a high CI.
    const remediation = await openTask(stack, tokens.olga, advisoryId, 'advisory.remediation');
    expect(remediation.details.deadline).toBe('84h');
    expect(await stack.db.selectFrom('security_alerts').select('id').execute()).toHaveLength(1);

    expect((await decide(stack, tokens.manager, proposal.id, 'send', { data: { audience: ['service_owner'] } })).status).toBe(200);
    const alertId = await eventually(
      async () => (await stack.request('GET', `/advisories/${advisoryId}`, { token: tokens.auditor })).body.alertId ?? undefined,
      15_000,
      'the advisory to link its alert',
    );
    const alert = await eventually(
      async () => {
        const view = await alertView(alertId);
        return view.status === 200 && view.body;
      },
      15_000,
      'the proposed alert to be recorded',
    );
    expect(alert).toMatchObject({
      title: 'Gateway RCE',
      raisedBy: 'max',
      links: [{ type: 'advisory', id: advisoryId }],
      actions: ['Block port 8443', expect.any(String)],
      affectedCis: [ci.ciId],
    });
    expect(alert.threat).toMatch(/CVSS 9\.8/);
    expect(recipients(alert.pending)).toEqual(['principal:olga', 'role:service_owner']);
  });
});
