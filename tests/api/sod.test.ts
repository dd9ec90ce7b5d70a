import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, openTask, seedCi, startReceiver } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

let stack: Stack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const tokens = {} as Record<'requester' | 'owner' | 'manager' | 'auditor', string>;
let erp: string;
let payments: string;
const rules = {} as Record<'approve' | 'release', string>;

beforeAll(async () => {
  receiver = await startReceiver();
  stack = await startStack({ env: { WARDEN_PROVISIONING_SECRET: 'provisioning-secret-for-tests', WARDEN_ACCESS_APPROVAL_DEADLINE: '2s' } });
  tokens.requester = await stack.token(['security_analyst'], 'rhea');
  tokens.owner = await stack.token(['service_owner'], 'olga');
  tokens.manager = await stack.token(['security_manager'], 'max');
  tokens.auditor = await stack.token(['auditor'], 'audrey');
  const attributes = { provisioningUrl: `${receiver.url}/provision` };
  erp = (await seedCi(stack.db, { owner: 'olga', name: 'erp', attributes })).ciId;
  payments = (await seedCi(stack.db, { owner: 'olga', name: 'payments', attributes })).ciId;
  const recently = new Date(Date.now() - 86_400_000).toISOString();
  const imported = (ciId: string, accounts: { accountId: string; owner: string; entitlements: string[] }[]) =>
    stack.request('POST', `/systems/${ciId}/accounts/import`, {
      token: tokens.owner,
      body: {
        accounts: accounts.map((a) => ({
          ...a,
          kind: 'person',
          entitlements: a.entitlements.map((name) => ({ name })),
          lastUsedAt: recently,
        })),
      },
    });
  // Pat already holds vendor-create (ERP) and payment-approve (payments); Lou only vendor-create.
  expect(
    (
      await imported(erp, [
        { accountId: 'pat', owner: 'pat', entitlements: ['vendor-create'] },
        { accountId: 'lou', owner: 'lou', entitlements: ['vendor-create'] },
      ])
    ).status,
  ).toBe(200);
  expect((await imported(payments, [{ accountId: 'pat.pay', owner: 'pat', entitlements: ['payment-approve'] }])).status).toBe(200);
});
afterAll(async () => {
  await stack?.close();
  await receiver?.close();
});

const requestStatus = (id: string, status: string) =>
  eventually(
    async () => {
      const found = (await stack.request('GET', `/access-requests/${id}`, { token: tokens.auditor })).body;
      return found.status === status && found;
    },
    30_000,
    `access request ${id} to be ${status}`,
  );

describe('separation of duties over entitlements', () => {
  it('is a set of rules the Security Manager manages, refusing empty and unknown ones', async () => {
    const create = (token: string, body: Record<string, unknown>) => stack.request('POST', '/sod-rules', { token, body });
    const approve = await create(tokens.manager, {
      name: 'Vendor master vs payment approval',
      members: [
        { ciId: erp, entitlement: 'vendor-create' },
        { ciId: null, entitlement: 'payment-approve' },
      ],
    });
    expect(approve.status, JSON.stringify(approve.body)).toBe(201);
    rules.approve = approve.body.id;
    const release = await create(tokens.manager, {
      name: 'Vendor master vs payment release',
      members: [{ entitlement: 'vendor-create' }, { entitlement: 'payment-release' }],
    });
    rules.release = release.body.id;
    expect((await create(tokens.owner, { name: 'mine', members: [{ entitlement: 'a' }, { entitlement: 'b' }] })).status).toBe(403);
    const empty = await create(tokens.manager, { name: 'Empty', members: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.errors).toEqual([expect.objectContaining({ path: 'body.members' })]);
    const unknownCi = await create(tokens.manager, {
      name: 'Ghost',
      members: [{ ciId: '00000000-0000-4000-8000-000000000999', entitlement: 'a' }, { entitlement: 'b' }],
    });
    expect(unknownCi.body.errors).toEqual([expect.objectContaining({ path: 'body.members.0.ciId' })]);
    const listed = await stack.request('GET', '/sod-rules', { token: tokens.auditor });
    expect(listed.body.items.map((r: { name: string }) => r.name)).toEqual([
      'Vendor master vs payment approval',
      'Vendor master vs payment release',
    ]);
    await linkPendingAudit(stack.db);
    const audit = await stack.db.selectFrom('audit_events').select('action').where('subject_type', '=', 'sod_rule').execute();
    expect(audit.map((e) => e.action)).toEqual(['sod_rule.created', 'sod_rule.created']);
  });

  it('refuses a request that would create a conflict, naming the rule, and audits the refusal', async () => {
    const refused = await stack.request('POST', '/access-requests', {
      token: tokens.requester,
      body: {
        system: payments,
        beneficiary: 'pat',
        account: 'pat.pay',
        entitlements: [{ name: 'payment-release' }],
        justification: 'month end',
      },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/Vendor master vs payment release/);
    await linkPendingAudit(stack.db);
    const audited = await stack.db
      .selectFrom('audit_events')
      .select('details')
      .where('action', '=', 'access_request.sod_refused')
      .execute();
    expect(audited).toEqual([expect.objectContaining({ details: expect.objectContaining({ rules: [rules.release] }) })]);
    const noConflict = await stack.request('POST', '/access-requests', {
      token: tokens.requester,
      body: {
        system: payments,
        beneficiary: 'pat',
        entitlements: [{ name: 'reader' }],
        justification: 'j',
        sodException: { reason: 'x', expiresAt: new Date(Date.now() + 60_000).toISOString() },
      },
    });
    expect(noConflict.status).toBe(400);
    expect(noConflict.body.errors).toEqual([expect.objectContaining({ path: 'body.sodException' })]);
  });

  it('grants an exception with a reason and an expiry through the Security Manager, and revokes the access when it lapses', async () => {
    const expiresAt = new Date(Date.now() + 15_000).toISOString();
    const filed = await stack.request('POST', '/access-requests', {
      token: tokens.requester,
      body: {
        system: payments,
        beneficiary: 'lou',
        account: 'lou.pay',
        entitlements: [{ name: 'payment-release' }],
        justification: 'cover during the audit',
        sodException: { reason: 'only trained person during the audit week', expiresAt },
      },
    });
    expect(filed.status, JSON.stringify(filed.body)).toBe(202);
    const ownerTask = await openTask(stack, tokens.owner, filed.body.id, 'access.owner-approval');
    // Undecided past WARDEN_ACCESS_APPROVAL_DEADLINE (2 s here), the approval escalates: admins may decide too.
    const escalated = await eventually(
      async () => {
        const task = (await stack.request('GET', `/tasks/${ownerTask.id}`, { token: tokens.manager })).body;
        return task.escalationLevel >= 1 && task;
      },
      15_000,
      'the owner approval to escalate',
    );
    expect(escalated.allowedRoles).toContain('admin');
    expect((await decide(stack, tokens.owner, ownerTask.id, 'approved')).status).toBe(200);
    const exceptionTask = await openTask(stack, tokens.manager, filed.body.id, 'access.sod-exception');
    expect(exceptionTask.details).toMatchObject({
      reason: 'only trained person during the audit week',
      expiresAt,
      conflicts: [{ id: rules.release }],
    });
    expect((await decide(stack, tokens.manager, exceptionTask.id, 'approved')).status).toBe(200);
    const active = await requestStatus(filed.body.id, 'active');
    expect(active.expiresAt).toBe(expiresAt);
    const exception = await stack.db
      .selectFrom('sod_exceptions')
      .selectAll()
      .where('request_id', '=', filed.body.id)
      .executeTakeFirstOrThrow();
    expect(exception).toMatchObject({ principal_id: 'lou', rule_id: rules.release, granted_by: 'max', status: 'active' });

    await requestStatus(filed.body.id, 'revoked');
    const lapsed = await stack.db
      .selectFrom('sod_exceptions')
      .select('status')
      .where('request_id', '=', filed.body.id)
      .executeTakeFirstOrThrow();
    expect(lapsed.status).toBe('lapsed');
    await linkPendingAudit(stack.db);
    const revoked = await stack.db
      .selectFrom('audit_events')
      .select('details')
      .where('subject_id', '=', filed.body.id)
      .where('action', '=', 'access_request.revoked')
      .executeTakeFirst();
    expect(revoked?.details).toMatchObject({ reason: 'sod_exception_expired' });
  }, 60_000);

  it('flags an existing conflict in a campaign with its rule, and the revocation resolves it', async () => {
    const before = await stack.request('GET', '/sod-conflicts', { token: tokens.auditor });
    expect(before.body.items).toEqual([expect.objectContaining({ principalId: 'pat', ruleId: rules.approve, exception: false })]);
    const today = new Date().toISOString().slice(0, 10);
    const kpi = async () =>
      (await stack.request('GET', `/kpis?from=${today}&to=${today}`, { token: tokens.manager })).body.measures.find(
        (m: { id: string }) => m.id === 'sod-conflicts',
      ).result;
    expect(await kpi()).toMatchObject({
      value: 1,
      breakdown: expect.arrayContaining([{ label: 'exceptions lapsed', value: 1 }]),
      misses: [expect.objectContaining({ key: `sod-conflicts:pat:${rules.approve}` })],
    });

    const started = await stack.request('POST', '/access-reviews', { token: tokens.manager, body: { ciIds: [erp], deadline: '1h' } });
    expect(started.status).toBe(202);
    const certify = await openTask(stack, tokens.owner, started.body.id, 'access-review.certify');
    const flags = Object.fromEntries(
      (certify.details.accounts as { accountId: string; flags: string[] }[]).map((a) => [a.accountId, a.flags]),
    );
    expect(flags.pat).toContain('sod_conflict');
    expect(flags.lou).not.toContain('sod_conflict');
    const detail = (await stack.request('GET', `/access-reviews/${started.body.id}`, { token: tokens.auditor })).body;
    expect(detail.items.find((i: { account: string }) => i.account === 'pat').sodConflicts).toEqual([
      { ruleId: rules.approve, ruleName: 'Vendor master vs payment approval' },
    ]);

    const decided = await decide(stack, tokens.owner, certify.id, 'completed', {
      data: {
        decisions: [
          { accountId: 'pat', action: 'revoke' },
          { accountId: 'lou', action: 'keep' },
        ],
      },
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    await eventually(
      async () => {
        const after = await stack.request('GET', '/sod-conflicts', { token: tokens.auditor });
        return after.body.items.length === 0;
      },
      30_000,
      'the revocation to resolve the conflict',
    );
    expect((await kpi()).value).toBe(0);
  }, 60_000);
});
