import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type Stack } from '../setup/stack';
import { decide, openTask, seedCi, startReceiver } from '../setup/fixtures';

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const provisioningSecret = 'provisioning-secret-for-tests';
const tokens = {} as Record<'requester' | 'owner' | 'manager' | 'manager2' | 'admin' | 'auditor', string>;
const startedAt = new Date();

beforeAll(async () => {
  receiver = await startReceiver();
  stack = await startStack({ env: { WARDEN_PROVISIONING_SECRET: provisioningSecret } });
  tokens.requester = await stack.token(['security_analyst'], 'rhea');
  tokens.owner = await stack.token(['service_owner'], 'olga');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.manager2 = await stack.token(['security_manager'], 'mia');
  tokens.admin = await stack.token(['admin'], 'ada');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
});
afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

const provisioningUrl = () => `${receiver.url}/provision`;
const callsFor = (account: string) => receiver.received.filter((call) => JSON.parse(call.body).account === account);
const get = (path: string, token = tokens.auditor) => stack.request('GET', path, { token });

async function requestStatus(id: string, status: string) {
  return eventually(
    async () => {
      const found = (await get(`/access-requests/${id}`)).body;
      return found.status === status && found;
    },
    20_000,
    `access request ${id} to be ${status}`,
  );
}

describe('access requests', () => {
  it('provisions privileged access approved by the owner and the Security Manager, then revokes it when it expires', async () => {
    const { ciId } = await seedCi(stack.db, { owner: 'olga', attributes: { provisioningUrl: provisioningUrl() } });
    expect(
      (
        await stack.request('POST', '/access-requests', {
          token: tokens.auditor,
          body: { system: ciId, entitlements: [{ name: 'x' }], justification: 'j' },
        })
      ).status,
    ).toBe(403);

    const filed = await stack.request('POST', '/access-requests', {
      token: tokens.requester,
      headers: { 'idempotency-key': 'grant-db-admin' },
      body: {
        system: ciId,
        beneficiary: 'mia',
        account: 'mia.db',
        entitlements: [{ name: 'db-admin', privilege: 'privileged' }],
        justification: 'migration weekend',
        for: '3s',
      },
    });
    expect(filed.status).toBe(202);
    const id: string = filed.body.id;
    expect(filed.body.workflowId).toBe(`access-request/${id}`);
    const retried = await stack.request('POST', '/access-requests', {
      token: tokens.requester,
      headers: { 'idempotency-key': 'grant-db-admin' },
      body: {
        system: ciId,
        beneficiary: 'mia',
        account: 'mia.db',
        entitlements: [{ name: 'db-admin', privilege: 'privileged' }],
        justification: 'migration weekend',
        for: '3s',
      },
    });
    expect(retried.body.id).toBe(id);

    const ownerTask = await openTask(stack, tokens.owner, id, 'access.owner-approval');
    expect(ownerTask.assignees).toEqual(['olga']);
    // The Security Manager is not the owner: no approval out of turn.
    expect((await decide(stack, tokens.manager, ownerTask.id, 'approved')).status).toBe(403);
    expect((await decide(stack, tokens.owner, ownerTask.id, 'approved')).status).toBe(200);

    const securityTask = await openTask(stack, tokens.manager, id, 'access.security-approval');
    const byBeneficiary = await decide(stack, tokens.manager2, securityTask.id, 'approved');
    expect(byBeneficiary.status).toBe(403);
    expect(byBeneficiary.body.detail).toMatch(/own request/);
    expect(receiver.received).toHaveLength(0);
    expect((await decide(stack, tokens.manager, securityTask.id, 'approved')).status).toBe(200);

    const active = await requestStatus(id, 'active');
    expect(active).toMatchObject({
      privileged: true,
      approvedBy: ['olga', 'max'],
      beneficiary: 'mia',
      account: 'mia.db',
      requester: 'rhea',
    });
    expect(active.expiresAt).not.toBeNull();
    const [grant] = callsFor('mia.db');
    expect(JSON.parse(grant!.body)).toMatchObject({
      operation: 'grant',
      entitlements: ['db-admin'],
      approvedBy: ['olga', 'max'],
      subject: { type: 'access_request', id },
    });
    expect(grant!.headers['x-warden-signature']).toBe(
      `sha256=${createHmac('sha256', provisioningSecret).update(grant!.body).digest('hex')}`,
    );

    const revoked = await requestStatus(id, 'revoked');
    expect(revoked.provisioning.map((a: { operation: string; status: string }) => `${a.operation}:${a.status}`)).toEqual([
      'grant:executed',
      'revoke:executed',
    ]);
    expect(callsFor('mia.db').map((call) => JSON.parse(call.body).operation)).toEqual(['grant', 'revoke']);
    expect(Date.parse(revoked.revokedAt)).toBeGreaterThanOrEqual(Date.parse(active.expiresAt));
    const audit = (
      await stack.request('GET', `/audit?subjectType=access_request&subjectId=${id}`, { token: tokens.auditor })
    ).body.items.map((e: { action: string }) => e.action);
    expect(audit).toEqual(
      expect.arrayContaining([
        'access_request.filed',
        'task.decision_refused',
        'access_request.active',
        'access.provisioning_run',
        'access_request.revoked',
      ]),
    );
  });

  it('refuses self-approval: an owner requesting on their own system goes to an admin, and a manual grant is confirmed by hand', async () => {
    const { ciId } = await seedCi(stack.db, { owner: 'olga' });
    const filed = await stack.request('POST', '/access-requests', {
      token: tokens.owner,
      body: { system: ciId, entitlements: [{ name: 'reader' }], justification: 'read the logs' },
    });
    expect(filed.status).toBe(202);
    const task = await openTask(stack, tokens.admin, filed.body.id, 'access.owner-approval');
    expect(task.allowedRoles).toEqual(['admin']);
    const own = await decide(stack, tokens.owner, task.id, 'approved');
    expect(own.status).toBe(403);
    expect(own.body.detail).toMatch(/own request/);
    expect((await decide(stack, tokens.admin, task.id, 'approved')).status).toBe(200);

    // No provisioningUrl on this system: an admin carries it out and confirms.
    const manual = await openTask(stack, tokens.admin, filed.body.id, 'access.provisioning');
    expect((await decide(stack, tokens.admin, manual.id, 'done')).status).toBe(200);
    const active = await requestStatus(filed.body.id, 'active');
    expect(active.privileged).toBe(false);
    expect(active.provisioning).toMatchObject([{ operation: 'grant', method: 'manual', status: 'confirmed', taskId: manual.id }]);
  });
});

describe('account imports', () => {
  it('rejects an import with bad rows whole, naming every bad row', async () => {
    const { ciId } = await seedCi(stack.db, { owner: 'olga' });
    const good = await stack.request('POST', `/systems/${ciId}/accounts/import`, {
      token: tokens.owner,
      body: { accounts: [{ accountId: 'keep-me', kind: 'person', owner: 'olga', entitlements: [] }] },
    });
    expect(good.status).toBe(200);
    const csv = [
      'account_id,kind,owner,entitlements,last_used_at',
      'a1,person,pat,reader,2026-11-01T00:00:00Z',
      'a2,robot,pat,reader,',
      'a3,person,pat,admin:godlike,',
      'a1,shared,,reader,',
    ].join('\r\n');
    const bad = await stack.request('POST', `/systems/${ciId}/accounts/import`, {
      token: tokens.owner,
      rawBody: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual([
      'body.csv.row.2.kind',
      'body.csv.row.3.entitlements',
      'body.csv.row.4',
    ]);
    const accounts = (await get(`/systems/${ciId}/accounts`)).body.items;
    expect(accounts.map((a: { accountId: string }) => a.accountId)).toEqual(['keep-me']);
    // Another owner's system is not theirs to import.
    const { ciId: other } = await seedCi(stack.db, { owner: 'someone-else' });
    expect((await stack.request('POST', `/systems/${other}/accounts/import`, { token: tokens.owner, body: { accounts: [] } })).status).toBe(
      403,
    );
  });
});

describe('access review campaigns', () => {
  it('flags a leaver and an unapproved admin entitlement; the owner revokes both; the next import verifies it', async () => {
    const people = ['principal_id,display_name,status,manager', 'olga,Olga,active,', 'pat,Pat,active,olga', 'lee,Lee,leaver,olga'].join(
      '\n',
    );
    const imported = await stack.request('POST', '/people/import', {
      token: tokens.manager,
      rawBody: people,
      headers: { 'content-type': 'text/csv' },
    });
    expect(imported.body).toEqual({ imported: 3, leavers: 1, removed: 0 });

    const { ciId } = await seedCi(stack.db, { owner: 'olga', attributes: { provisioningUrl: provisioningUrl() } });
    const recently = new Date(Date.now() - 86_400_000).toISOString();
    const accounts = [
      { accountId: 'lee', kind: 'person', owner: 'lee', entitlements: [{ name: 'reader' }], lastUsedAt: recently },
      {
        accountId: 'pat.admin',
        kind: 'person',
        owner: 'pat',
        entitlements: [{ name: 'reader' }, { name: 'admin', privilege: 'privileged' }],
        lastUsedAt: recently,
      },
      { accountId: 'svc-backup', kind: 'service', owner: 'pat', entitlements: [{ name: 'backup' }], lastUsedAt: recently },
      { accountId: 'olga', kind: 'person', owner: 'olga', entitlements: [{ name: 'reader' }], lastUsedAt: recently },
    ];
    expect((await stack.request('POST', `/systems/${ciId}/accounts/import`, { token: tokens.owner, body: { accounts } })).status).toBe(200);

    expect((await stack.request('POST', '/access-reviews', { token: tokens.owner, body: { ciIds: [ciId] } })).status).toBe(403);
    const started = await stack.request('POST', '/access-reviews', { token: tokens.manager, body: { ciIds: [ciId], deadline: '1h' } });
    expect(started.status).toBe(202);
    const id: string = started.body.id;

    const certify = await openTask(stack, tokens.owner, id, 'access-review.certify');
    expect(certify.assignees).toEqual(['olga']);
    const listed = certify.details.accounts as { accountId: string; flags: string[] }[];
    expect(Object.fromEntries(listed.map((a) => [a.accountId, a.flags]))).toEqual({
      lee: ['orphaned'],
      'pat.admin': ['privileged_without_approval'],
      'svc-backup': [],
    });
    const detail = (await get(`/access-reviews/${id}`)).body;
    expect(detail.findings).toMatchObject({ orphaned: 1, privileged_without_approval: 1 });
    expect(detail.progress).toMatchObject({ accounts: 4, decided: 0, flagged: 2 });

    const incomplete = await decide(stack, tokens.owner, certify.id, 'completed', {
      data: { decisions: [{ accountId: 'lee', action: 'revoke' }] },
    });
    expect(incomplete.status).toBe(409);
    expect(incomplete.body.detail).toMatch(/no decision for: pat.admin, svc-backup/);
    const decisions = [
      { accountId: 'lee', action: 'revoke' },
      { accountId: 'pat.admin', action: 'revoke' },
      { accountId: 'svc-backup', action: 'keep' },
    ];
    expect((await decide(stack, tokens.owner, certify.id, 'completed', { data: { decisions } })).status).toBe(200);

    // Olga's own account is certified by the Security Manager, never by her.
    const ownAccount = await eventually(
      async () => {
        const open = (await stack.request('GET', `/tasks?status=open&subjectId=${id}`, { token: tokens.manager })).body.items;
        return open.find(
          (t: { kind: string; allowedRoles: string[] }) =>
            t.kind === 'access-review.certify' && t.allowedRoles.includes('security_manager'),
        );
      },
      20_000,
      'the Security Manager’s certification of the owner’s own account',
    );
    expect(
      (await decide(stack, tokens.owner, ownAccount.id, 'completed', { data: { decisions: [{ accountId: 'olga', action: 'keep' }] } }))
        .status,
    ).toBe(403);
    expect(
      (await decide(stack, tokens.manager, ownAccount.id, 'completed', { data: { decisions: [{ accountId: 'olga', action: 'keep' }] } }))
        .status,
    ).toBe(200);

    const done = await eventually(
      async () => {
        const campaign = (await get(`/access-reviews/${id}`)).body;
        return campaign.status === 'completed' && campaign.provisioning.length === 2 && campaign;
      },
      20_000,
      'the campaign to complete with its revocations',
    );
    expect(done.completedOnTime).toBe(true);
    expect(done.progress).toMatchObject({ accounts: 4, decided: 4, reviewersDone: 1 });
    expect(
      done.provisioning
        .map((a: { account: string; operation: string; status: string }) => `${a.account}:${a.operation}:${a.status}`)
        .sort(),
    ).toEqual(['lee:revoke:executed', 'pat.admin:revoke:executed']);
    expect(JSON.parse(callsFor('pat.admin')[0]!.body)).toMatchObject({
      operation: 'revoke',
      entitlements: ['reader', 'admin'],
      approvedBy: ['olga'],
    });
    const audit = (await stack.request('GET', `/audit?subjectType=access_review&subjectId=${id}`, { token: tokens.auditor })).body.items;
    const byAction = (action: string) =>
      audit
        .filter((e: { action: string }) => e.action === action)
        .map((e: { details: { account: string } }) => e.details.account)
        .sort();
    expect(byAction('access_review.revoke')).toEqual(['lee', 'pat.admin']);
    expect(byAction('access_review.keep')).toEqual(['olga', 'svc-backup']);

    // The system removed pat.admin but not lee: the next import says so, and flags lee.
    const next = await stack.request('POST', `/systems/${ciId}/accounts/import`, {
      token: tokens.owner,
      body: { accounts: accounts.filter((a) => a.accountId !== 'pat.admin') },
    });
    expect(next.body).toMatchObject({ revocationsVerified: ['pat.admin'], revocationsNotApplied: ['lee'] });
    const lee = (await get(`/systems/${ciId}/accounts`)).body.items.find((a: { accountId: string }) => a.accountId === 'lee');
    expect(lee).toMatchObject({ employmentStatus: 'leaver', revocationNotApplied: true });
  });

  it('escalates a missed deadline to the Security Manager and records the campaign as not completed on schedule', async () => {
    const { ciId } = await seedCi(stack.db, { owner: 'olga' });
    await stack.request('POST', `/systems/${ciId}/accounts/import`, {
      token: tokens.owner,
      body: { accounts: [{ accountId: 'pat', kind: 'person', owner: 'pat', entitlements: 'reader' }] },
    });
    const started = await stack.request('POST', '/access-reviews', {
      token: tokens.admin,
      body: { ciIds: [ciId], deadline: '2s', escalationPeriod: '3s' },
    });
    const id: string = started.body.id;
    const task = await openTask(stack, tokens.owner, id, 'access-review.certify');
    const escalated = await eventually(
      async () => {
        const current = (await stack.request('GET', `/tasks/${task.id}`, { token: tokens.manager })).body;
        return current.escalationLevel >= 1 && current;
      },
      15_000,
      'the review to escalate',
    );
    expect(escalated.allowedRoles).toContain('security_manager');
    const notice = await eventually(
      () => stack.db.selectFrom('notifications').selectAll().where('dedup_key', '=', `task:${task.id}:escalated-1`).executeTakeFirst(),
      15_000,
      'the Security Manager to be told',
    );
    expect(notice.recipient_roles).toContain('security_manager');

    const unanswered = await eventually(
      async () => {
        const campaign = (await get(`/access-reviews/${id}`)).body;
        return campaign.status === 'unanswered' && campaign;
      },
      20_000,
      'the campaign to close unanswered',
    );
    expect(unanswered).toMatchObject({ completedOnTime: false, completedAt: null });
  });

  it('reports campaigns due and completed on time in /kpis/access-reviews', async () => {
    const from = new Date(startedAt.getTime() - 60_000).toISOString();
    const to = new Date(startedAt.getTime() + 2 * 3_600_000).toISOString();
    const kpi = await get(`/kpis/access-reviews?from=${from}&to=${to}`);
    expect(kpi.status).toBe(200);
    expect(kpi.body).toEqual({ from, to, due: 2, completedOnTime: 1, percentage: 50 });
    expect((await stack.request('GET', `/kpis/access-reviews?from=${from}&to=${to}`, { token: tokens.owner })).status).toBe(403);
  });

  it('schedules campaigns per service at the SLA review cadence', async () => {
    const { serviceId, ciId } = await seedCi(stack.db, { owner: 'olga', sla: { reviewCadence: '30d' } });
    const scheduled = await stack.request('PUT', '/access-reviews/schedule', {
      token: tokens.manager,
      body: { scope: { serviceId }, deadline: '7d' },
    });
    expect(scheduled.status).toBe(200);
    expect(scheduled.body).toMatchObject({ scheduleId: `access-review-schedule/service-${serviceId}`, every: '30d' });
    expect(Date.parse(scheduled.body.nextRunAt)).toBeGreaterThan(Date.now());
    const handle = stack.temporal.client.schedule.getHandle(scheduled.body.scheduleId);
    try {
      const changed = await stack.request('PUT', '/access-reviews/schedule', {
        token: tokens.manager,
        body: { scope: { serviceId }, every: '7d' },
      });
      expect(changed.body.every).toBe('7d');
      expect((await handle.describe()).spec.intervals?.[0]?.every).toBe(7 * 86_400_000);
      await handle.trigger();
      const campaign = await eventually(
        async () => {
          const items = (await get('/access-reviews')).body.items;
          return items.find((c: { workflowId: string }) => c.workflowId.startsWith(`access-review/service-${serviceId}-`));
        },
        20_000,
        'the scheduled campaign',
      );
      expect(campaign).toMatchObject({
        systems: [ciId],
        scope: { serviceId },
        startedBy: scheduled.body.scheduleId.replace(/^/, 'schedule:'),
      });
    } finally {
      await handle.delete();
    }
  });
});
