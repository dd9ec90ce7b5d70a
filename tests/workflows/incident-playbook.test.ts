import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { decodedHistoryJson } from '../setup/histories';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type Stack } from '../setup/stack';
import { completeIncidentSteps, decide, openTask, seedCi, startReceiver } from '../setup/fixtures';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
let responder: Awaited<ReturnType<typeof startReceiver>>;
const responderSecret = 'responder-secret-for-tests';
const tokens = {} as Record<'reporter' | 'analyst' | 'manager' | 'owner' | 'auditor', string>;

beforeAll(async () => {
  responder = await startReceiver();
  stack = await startStack({ env: { WARDEN_RESPONDER_URL: `${responder.url}/contain`, WARDEN_RESPONDER_SECRET: responderSecret } });
  tokens.reporter = await stack.token(['reporter'], 'rita');
  // Ana triages and also holds the manager role: the containment she proposes she may not approve.
  tokens.analyst = await stack.token(['security_analyst', 'security_manager'], 'ana');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.owner = await stack.token(['service_owner'], 'sam');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(async () => {
  await stack?.close();
  await responder?.close();
});

describe('the security incident playbook', () => {
  it('runs an unauthorised-access incident from report to closure', async () => {
    const { ciId } = await seedCi(stack.db, {
      level: 'very_high',
      owner: 'sam',
      sla: { acknowledgeTargets: { critical: '2s', high: '2s', medium: '2s', low: '2s' } },
    });
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: {
        title: 'Admin console reached from unknown network',
        description: 'VPN logs show it',
        category: 'unauthorised_access',
        affectedCis: [ciId],
        source: 'helpdesk',
        occurredAt: '2026-11-20T01:00:00Z',
        detectedAt: '2026-11-20T02:00:00Z',
      },
    });
    expect(reported.status).toBe(202);
    expect(reported.body).toMatchObject({ severity: 'critical', securityIncident: true, workflowId: `incident/${reported.body.id}` });
    const id: string = reported.body.id;

    // Nobody acknowledges within the 2 s target: the task escalates and the admin role is added.
    const acknowledge = await openTask(stack, tokens.manager, id, 'incident.acknowledge');
    const escalated = await eventually(
      async () => {
        const task = (await stack.request('GET', `/tasks/${acknowledge.id}`, { token: tokens.manager })).body;
        return task.escalationLevel >= 1 && task;
      },
      15_000,
      'the acknowledgement to escalate',
    );
    expect(escalated.allowedRoles).toContain('admin');

    const wrongRole = await decide(stack, tokens.reporter, acknowledge.id, 'acknowledged');
    expect(wrongRole.status).toBe(403);
    expect(wrongRole.headers.get('content-type')).toContain('application/problem+json');
    expect((await decide(stack, tokens.analyst, acknowledge.id, 'acknowledged')).status).toBe(200);

    const triage = await openTask(stack, tokens.analyst, id, 'incident.triage');
    expect((await decide(stack, tokens.analyst, triage.id, 'triaged', { data: { scope: 'one service account' } })).body.status).toBe(
      'decided',
    );

    const approval = await openTask(stack, tokens.manager, id, 'incident.approval');
    expect(approval.requester).toBe('ana');
    const selfApproval = await decide(stack, tokens.analyst, approval.id, 'approved');
    expect(selfApproval.status).toBe(403);
    expect(selfApproval.body.detail).toMatch(/own request/);
    // Nothing is contained before the approval.
    expect(responder.received).toHaveLength(0);
    expect(await stack.db.selectFrom('incident_actions').select('id').where('incident_id', '=', id).execute()).toHaveLength(0);
    expect((await decide(stack, tokens.manager, approval.id, 'approved', { comment: 'isolate it' })).status).toBe(200);

    const call = await eventually(async () => responder.received[0], 15_000, 'the responder call');
    expect(JSON.parse(call.body)).toMatchObject({ incidentId: id, action: 'isolate-account', approvedBy: ['max'] });
    expect(call.headers['x-warden-signature']).toBe(`sha256=${createHmac('sha256', responderSecret).update(call.body).digest('hex')}`);

    await completeIncidentSteps(stack, tokens.analyst, id, ['Forensic review', 'Rotate', 'Restore']);

    const review = await openTask(stack, tokens.analyst, id, 'incident.post-incident-review');
    await decide(stack, tokens.analyst, review.id, 'completed', {
      data: { lessons: [{ title: 'Enforce MFA on the admin console', owner: 'sam', dueInDays: 30 }], rootCause: 'unexplained' },
    });

    const closed = await eventually(
      async () => {
        const incident = (await stack.request('GET', `/incidents/${id}`, { token: tokens.auditor })).body;
        return incident.status === 'closed' && incident;
      },
      20_000,
      'the incident to close',
    );
    for (const stamp of ['occurredAt', 'detectedAt', 'reportedAt', 'acknowledgedAt', 'containedAt', 'resolvedAt', 'closedAt']) {
      expect(closed.timestamps[stamp], stamp).not.toBeNull();
    }
    expect(closed.playbook).toEqual({ category: 'unauthorised_access', version: 1 });
    expect(closed.actions).toMatchObject([{ name: 'isolate-account', status: 'executed', approvedBy: ['max'] }]);
    expect(closed.steps.map((s: { stepId: string; status: string }) => `${s.stepId}:${s.status}`)).toEqual([
      'propose-containment:completed',
      'forensic-review:completed',
      'rotate-credentials:completed',
      'restore-access:completed',
    ]);
    const actions = closed.timeline.map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'incident.registered',
        'task.escalated',
        'task.decision_refused',
        'incident.acknowledged',
        'incident.triaged',
        'incident.action_run',
        'incident.reviewed',
        'incident.closed',
      ]),
    );
    const refusals = closed.timeline.filter((e: { action: string }) => e.action === 'task.decision_refused');
    expect(refusals.map((e: { details: { refusal: string } }) => e.details.refusal)).toEqual(['NotPermitted', 'OwnRequest']);

    const improvements = await stack.db.selectFrom('improvement_actions').selectAll().where('source_id', '=', id).execute();
    expect(improvements).toMatchObject([{ title: 'Enforce MFA on the admin console', owner: 'sam', source_type: 'incident' }]);
    expect(await stack.db.selectFrom('problems').select('reason').where('source_id', '=', id).execute()).toEqual([
      { reason: 'unexplained root cause' },
    ]);

    if (process.env.WARDEN_RECORD_HISTORIES === '1') {
      const history = await decodedHistoryJson(stack.temporal.client, `incident/${id}`, stack.app.codec);
      writeFileSync(new URL('../replay/histories/incident-playbook-unauthorised-access.json', import.meta.url), history);
    }

    // Deciding a closed task again is a conflict and changes nothing.
    await linkPendingAudit(stack.db);
    const auditBefore = await stack.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const again = await decide(stack, tokens.manager, approval.id, 'rejected');
    expect(again.status).toBe(409);
    await linkPendingAudit(stack.db);
    const auditAfter = await stack.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(auditAfter.n).toBe(auditBefore.n);
  });

  it('records a non-security incident and closes it with the reason', async () => {
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: { title: 'Printer jam', description: 'floor 3', category: 'other', affectedCis: [], source: 'helpdesk' },
    });
    expect(reported.body).toMatchObject({ securityIncident: false });
    const incident = await eventually(
      async () => {
        const found = (await stack.request('GET', `/incidents/${reported.body.id}`, { token: tokens.reporter })).body;
        return found.status === 'closed_not_security' && found;
      },
      15_000,
      'the non-security incident to close',
    );
    expect(incident.classificationReason).toMatch(/not a security incident/);
    expect(incident.tasks).toHaveLength(0);
  });

  it('runs an `other` incident that names a threatened aspect of an affected CI as a security incident', async () => {
    const { ciId } = await seedCi(stack.db, { level: 'very_high', owner: 'sam' });
    const reported = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: {
        title: 'Payroll totals altered overnight',
        description: 'batch output differs from the ledger',
        category: 'other',
        threatens: ['integrity'],
        affectedCis: [ciId],
        source: 'helpdesk',
      },
    });
    expect(reported.status).toBe(202);
    expect(reported.body).toMatchObject({ securityIncident: true });
    // It enters the playbook: its first task opens, and it is never closed as not security.
    await openTask(stack, tokens.manager, reported.body.id, 'incident.acknowledge');
    const incident = (await stack.request('GET', `/incidents/${reported.body.id}`, { token: tokens.manager })).body;
    expect(incident.status).not.toBe('closed_not_security');
    expect(incident.classificationReason).toMatch(/threatens the integrity baseline of 1 affected CI/);
  });

  it('starts exactly one incident per Idempotency-Key under 50 concurrent requests', async () => {
    const tag = `idem-${Date.now()}`;
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        stack.request('POST', '/incidents', {
          token: tokens.reporter,
          headers: { 'idempotency-key': `${tag}-${i % 10}` },
          body: { title: `${tag} ${i % 10}`, description: 'x', category: 'malware', affectedCis: [], source: 'edr', drill: true },
        }),
      ),
    );
    expect(responses.every((r) => r.status === 202)).toBe(true);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(10);
    const rows = await eventually(
      async () => {
        const found = await stack.db.selectFrom('incidents').select('id').where('title', 'like', `${tag}%`).execute();
        return found.length >= 10 && found;
      },
      30_000,
      'ten incidents',
    );
    expect(rows).toHaveLength(10);
  });

  it('refuses bad reports naming the field', async () => {
    const unknownCi = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: { title: 't', description: 'd', category: 'malware', affectedCis: ['00000000-0000-4000-8000-000000000000'], source: 's' },
    });
    expect(unknownCi.status).toBe(400);
    expect(unknownCi.body.errors).toEqual([{ path: 'body.affectedCis.0', message: expect.stringContaining('no configuration item') }]);
    const badCategory = await stack.request('POST', '/incidents', {
      token: tokens.reporter,
      body: { title: 't', description: 'd', category: 'aliens', affectedCis: [], source: 's', severity: 'critical' },
    });
    expect(badCategory.status).toBe(400);
    expect(badCategory.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['body.category', 'body.severity']),
    );
  });
});
