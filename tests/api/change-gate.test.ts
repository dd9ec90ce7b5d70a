import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type Stack } from '../setup/stack';
import { decide as decideTask, seedCi, startReceiver, type ReceivedRequest } from '../setup/fixtures';
import { changeBody, changeWithStatus, noImpact, reviewTask, submitChange } from './change-gate-support';

const callbackSecret = 'test-callback-secret-0123456789abcdef';
let stack: Stack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let unavailable: Awaited<ReturnType<typeof startReceiver>>;
let refusing: Awaited<ReturnType<typeof startReceiver>>;
let requester: string;
let reviewerA: string;
let reviewerB: string;
let lowCi: string;
let criticalCi: string;

beforeAll(async () => {
  receiver = await startReceiver();
  unavailable = await startReceiver(503);
  refusing = await startReceiver(400);
  stack = await startStack({
    env: {
      WARDEN_CALLBACK_ALLOWED_ORIGINS: [receiver, unavailable, refusing].map((r) => r.url).join(','),
      WARDEN_CALLBACK_SECRET: callbackSecret,
    },
  });
  requester = await stack.token(['change_manager']);
  reviewerA = await stack.token(['security_reviewer'], 'reviewer-a');
  reviewerB = await stack.token(['security_reviewer'], 'reviewer-b');
  lowCi = (await seedCi(stack.db, { level: 'low', name: 'intranet-wiki' })).ciId;
  criticalCi = (await seedCi(stack.db, { level: 'very_high', name: 'payments-db' })).ciId;
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([receiver, unavailable, refusing].map((r) => r?.close()));
});

const decide = (token: string, taskId: string, outcome: string, comment?: string) =>
  decideTask(stack, token, taskId, outcome, comment ? { comment } : {});

describe('the change security gate', () => {
  it('approves a change without security impact by itself, with the reason recorded', async () => {
    const accepted = await submitChange(stack, requester, changeBody({ affectedCis: [lowCi] }));
    expect(accepted).toMatchObject({ risk: 'none', reviewRequired: false, workflowId: `change/${accepted.id}` });
    const change = await changeWithStatus(stack, requester, accepted.id, 'approved');
    expect(change.decisions).toEqual([
      expect.objectContaining({
        outcome: 'approved',
        decidedBy: ['system:warden'],
        reason: expect.stringMatching(
          /no security impact declared.*no content rule matched \(\d+ checked\) and no affected CI is classified high or above/,
        ),
      }),
    ]);
    expect(change.reviews).toEqual([]);
    expect(change.timeline.map((event: { action: string }) => event.action)).toEqual(['change.requested', 'change.approved']);
    expect(change.live).toMatchObject({ status: 'approved', waitingFor: 'implementation_report' });
  });

  it('lets a security reviewer approve a change with security impact', async () => {
    const accepted = await submitChange(
      stack,
      requester,
      changeBody({ affectedCis: [lowCi], securityImpact: { ...noImpact, dataHandling: true } }),
    );
    expect(accepted).toMatchObject({ risk: 'low', reviewRequired: true });
    const task = await reviewTask(stack, reviewerA, accepted.id);
    expect(task).toMatchObject({ kind: 'change_security_review', allowedRoles: ['security_reviewer'], approvalsRequired: 1 });
    const decided = await decide(reviewerA, task.id, 'approved', 'encryption settings unchanged');
    expect(decided.status).toBe(200);
    const change = await changeWithStatus(stack, requester, accepted.id, 'approved');
    expect(change.decisions).toEqual([
      expect.objectContaining({ outcome: 'approved', decidedBy: ['reviewer-a'], reason: 'encryption settings unchanged', taskId: task.id }),
    ]);
    expect(change.reviewers).toEqual([expect.objectContaining({ principalId: 'reviewer-a', outcome: 'approved', revision: 1 })]);
  });

  it('lets a security reviewer reject a change, and tells nobody to implement it', async () => {
    const accepted = await submitChange(
      stack,
      requester,
      changeBody({ affectedCis: [lowCi], securityImpact: { ...noImpact, other: 'disables TLS to the wiki' } }),
    );
    const task = await reviewTask(stack, reviewerB, accepted.id);
    expect((await decide(reviewerB, task.id, 'rejected', 'TLS stays on')).status).toBe(200);
    const change = await changeWithStatus(stack, requester, accepted.id, 'rejected');
    expect(change.decisions).toEqual([expect.objectContaining({ outcome: 'rejected', decidedBy: ['reviewer-b'], reason: 'TLS stays on' })]);
    expect((await stack.request('POST', `/changes/${accepted.id}/implemented`, { token: requester, body: {} })).status).toBe(409);
  });

  it('refuses the requester deciding their own change, leaves no workflow history, and audits the attempt', async () => {
    const both = await stack.token(['change_manager', 'security_reviewer'], 'dual-role');
    const accepted = await submitChange(
      stack,
      both,
      changeBody({ affectedCis: [lowCi], securityImpact: { ...noImpact, networkConfiguration: true } }),
    );
    const task = await reviewTask(stack, both, accepted.id);
    const refused = await decide(both, task.id, 'approved');
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/own request/);

    const audit = await stack.request('GET', `/audit?subjectType=change&subjectId=${accepted.id}&action=task.decision_refused`, {
      token: await stack.token(['auditor']),
    });
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        actor: 'dual-role',
        details: expect.objectContaining({ taskId: task.id, status: 403, outcome: 'approved' }),
      }),
    ]);
    const history = await stack.temporal.client.workflow.getHandle(accepted.workflowId).fetchHistory();
    expect(history.events?.some((event) => event.workflowExecutionUpdateAcceptedEventAttributes)).toBe(false);
    const change = await stack.request('GET', `/changes/${accepted.id}`, { token: both });
    expect(change.body.timeline.map((event: { action: string }) => event.action)).toContain('task.decision_refused');
    expect(change.body.status).toBe('in_review');
    expect(change.body.live).toMatchObject({ status: 'in_review', waitingFor: 'review', openTaskIds: [task.id] });
  });

  it('needs two different reviewers for a high-risk change', async () => {
    const accepted = await submitChange(
      stack,
      requester,
      changeBody({
        affectedCis: [criticalCi],
        securityImpact: { ...noImpact, accessControls: true },
        evidence: [{ kind: 'penetration_test', ref: 'PT-2026-114' }],
      }),
    );
    expect(accepted.risk).toBe('high');
    const task = await reviewTask(stack, reviewerA, accepted.id);
    expect(task.approvalsRequired).toBe(2);
    expect((await decide(reviewerA, task.id, 'approved')).body).toMatchObject({ status: 'awaiting_approval', approvals: 1 });
    // The same approval again (a client retrying) is answered as before and counts once; a second
    // approval in other words by the same person is refused.
    expect((await decide(reviewerA, task.id, 'approved')).body).toMatchObject({ status: 'awaiting_approval', approvals: 1 });
    const twice = await decide(reviewerA, task.id, 'approved', 'approving once more');
    expect(twice.status).toBe(403);
    expect(twice.body.detail).toMatch(/different person/);
    expect((await decide(reviewerB, task.id, 'approved')).body).toMatchObject({ status: 'decided', approvals: 2 });
    const change = await changeWithStatus(stack, requester, accepted.id, 'approved');
    expect(change.decisions[0].decidedBy).toEqual(['reviewer-a', 'reviewer-b']);
  });

  it('blocks approval of a high-risk change until a penetration test or configuration review is on file', async () => {
    const accepted = await submitChange(
      stack,
      requester,
      changeBody({ affectedCis: [criticalCi], securityImpact: { ...noImpact, dataHandling: true } }),
    );
    expect(accepted.risk).toBe('high');
    const task = await reviewTask(stack, reviewerA, accepted.id);
    const blocked = await decide(reviewerA, task.id, 'approved');
    expect(blocked.status).toBe(409);
    expect(blocked.body.detail).toMatch(/penetration_test or configuration_review/);

    const added = await stack.request('POST', `/changes/${accepted.id}/evidence`, {
      token: requester,
      body: { evidence: [{ kind: 'configuration_review', ref: 'CR-77' }] },
    });
    expect(added.status).toBe(200);
    expect(added.body.evidence).toEqual([{ kind: 'configuration_review', ref: 'CR-77' }]);
    expect((await decide(reviewerA, task.id, 'approved')).body.status).toBe('awaiting_approval');
    expect((await decide(reviewerB, task.id, 'approved')).body.status).toBe('decided');
    const change = await changeWithStatus(stack, requester, accepted.id, 'approved');
    expect(change.evidence).toEqual([{ kind: 'configuration_review', ref: 'CR-77' }]);
  });

  it('restarts the review in the same workflow when the requester amends a change sent back', async () => {
    const accepted = await submitChange(
      stack,
      requester,
      changeBody({ affectedCis: [lowCi], securityImpact: { ...noImpact, dataHandling: true } }),
    );
    const first = await reviewTask(stack, reviewerA, accepted.id);
    expect((await decide(reviewerA, first.id, 'changes_requested', 'say how the export is encrypted')).status).toBe(200);
    await changeWithStatus(stack, requester, accepted.id, 'changes_requested');

    const stranger = await stack.token(['change_manager']);
    expect((await stack.request('PATCH', `/changes/${accepted.id}`, { token: stranger, body: { description: 'mine now' } })).status).toBe(
      403,
    );
    const amended = await stack.request('PATCH', `/changes/${accepted.id}`, {
      token: requester,
      body: {
        revision: 1,
        description: 'Exports are encrypted with the KMS key',
        securityImpact: { ...noImpact, dataHandling: true, accessControls: true },
      },
    });
    expect(amended.status, JSON.stringify(amended.body)).toBe(200);
    expect(amended.body).toMatchObject({ status: 'in_review', revision: 2, risk: 'medium' });
    const again = await stack.request('PATCH', `/changes/${accepted.id}`, {
      token: requester,
      body: { revision: 1, description: 'again' },
    });
    expect(again.status).toBe(409);

    const second = await reviewTask(stack, reviewerB, accepted.id);
    expect(second.details.revision).toBe(2);
    expect(second.id).not.toBe(first.id);
    expect((await decide(reviewerB, second.id, 'approved')).status).toBe(200);
    const change = await changeWithStatus(stack, requester, accepted.id, 'approved');
    expect(change).toMatchObject({ revision: 2, risk: 'medium', description: 'Exports are encrypted with the KMS key' });
    expect(change.decisions.map((d: { outcome: string; revision: number }) => [d.outcome, d.revision])).toEqual([
      ['changes_requested', 1],
      ['approved', 2],
    ]);
    const amendment = change.timeline.find((event: { action: string }) => event.action === 'change.amended');
    expect(Object.keys(amendment.details.fields).sort()).toEqual(['description', 'securityImpact']);
    expect(amendment.details.risk).toEqual({ from: 'low', to: 'medium' });
    const runs = [];
    for await (const run of stack.temporal.client.workflow.list({ query: `WorkflowId = '${accepted.workflowId}'` })) runs.push(run);
    expect(runs).toHaveLength(1);
  });

  it('keeps reviewing a change sent back even when the amendment clears its impact', async () => {
    const accepted = await submitChange(stack, requester, changeBody({ securityImpact: { ...noImpact, networkConfiguration: true } }));
    const first = await reviewTask(stack, reviewerA, accepted.id);
    expect((await decide(reviewerA, first.id, 'changes_requested', 'which ports?')).status).toBe(200);
    await changeWithStatus(stack, requester, accepted.id, 'changes_requested');
    const amended = await stack.request('PATCH', `/changes/${accepted.id}`, { token: requester, body: { securityImpact: noImpact } });
    expect(amended.body).toMatchObject({ status: 'in_review', revision: 2, risk: 'none' });
    const second = await reviewTask(stack, reviewerA, accepted.id);
    expect(second.details.revision).toBe(2);
  });

  it('POSTs every decision to the callback, signed with HMAC-SHA256', async () => {
    const accepted = await submitChange(stack, requester, changeBody({ callbackUrl: `${receiver.url}/itsm/changes` }));
    const delivered = await eventually<ReceivedRequest>(
      async () => receiver.received.find((callback) => JSON.parse(callback.body).changeId === accepted.id),
      20_000,
      'the callback',
    );
    const timestamp = String(delivered.headers['x-warden-timestamp']);
    const expected = `sha256=${createHmac('sha256', callbackSecret).update(`${timestamp}.${delivered.body}`).digest('hex')}`;
    expect(delivered.headers['x-warden-signature']).toBe(expected);
    expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(60);
    expect(JSON.parse(delivered.body)).toMatchObject({
      event: 'change.decision',
      changeId: accepted.id,
      outcome: 'approved',
      decidedBy: ['system:warden'],
    });
    const forged = createHmac('sha256', 'another-secret').update(`${timestamp}.${delivered.body}`).digest('hex');
    expect(delivered.headers['x-warden-signature']).not.toBe(`sha256=${forged}`);
    const change = await eventually(async () => {
      const response = await stack.request('GET', `/changes/${accepted.id}`, { token: requester });
      return response.body.callbacks?.[0]?.status === 'delivered' ? response.body : undefined;
    });
    expect(change.callbacks[0]).toMatchObject({ attempts: 1, lastStatusCode: 200 });
  });

  it('retries an unavailable callback with backoff and gives up on a refusing one, recording each attempt', async () => {
    const retried = await submitChange(stack, requester, changeBody({ callbackUrl: `${unavailable.url}/down` }));
    const refused = await submitChange(stack, requester, changeBody({ callbackUrl: `${refusing.url}/bad` }));
    const callbackOf = (id: string) => async () => (await stack.request('GET', `/changes/${id}`, { token: requester })).body.callbacks?.[0];
    const retrying = await eventually(
      async () => ((await callbackOf(retried.id)())?.attempts >= 2 ? callbackOf(retried.id)() : undefined),
      20_000,
      'a second attempt',
    );
    expect(retrying).toMatchObject({ status: 'pending', lastStatusCode: 503, lastError: 'callback answered 503' });
    const givenUp = await eventually(
      async () => ((await callbackOf(refused.id)())?.status === 'failed' ? callbackOf(refused.id)() : undefined),
      20_000,
      'a failed delivery',
    );
    expect(givenUp).toMatchObject({ attempts: 1, lastStatusCode: 400 });
    // An unreachable ITSM tool never holds the gate up.
    await changeWithStatus(stack, requester, retried.id, 'approved');
  });

  it('refuses a callback to an origin that is not allowed', async () => {
    const response = await stack.request('POST', '/changes', {
      token: requester,
      body: changeBody({ callbackUrl: 'http://169.254.169.254/latest/meta-data' }),
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'body.callbackUrl', message: expect.stringMatching(/not an allowed callback origin/) }]);
  });

  it('creates exactly one change for 20 concurrent requests with the same Idempotency-Key', async () => {
    const body = changeBody({ affectedCis: [lowCi], securityImpact: { ...noImpact, dataHandling: true } });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        stack.request('POST', '/changes', { token: requester, body, headers: { 'idempotency-key': 'cab-2026-12-01-17' } }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(202));
    const ids = new Set(responses.map((response) => response.body.id));
    expect(ids.size).toBe(1);
    const [id] = ids;
    await reviewTask(stack, reviewerA, id as string);
    const rows = await stack.db.selectFrom('changes').select('id').where('title', '=', body.title).execute();
    expect(rows).toEqual([{ id }]);
    const tasks = await stack.db
      .selectFrom('human_tasks')
      .select('id')
      .where('subject_id', '=', id as string)
      .execute();
    expect(tasks).toHaveLength(1);

    const reused = await stack.request('POST', '/changes', {
      token: requester,
      body: { ...body, title: 'something else' },
      headers: { 'idempotency-key': 'cab-2026-12-01-17' },
    });
    expect(reused.status).toBe(409);
    const otherCaller = await stack.request('POST', '/changes', {
      token: await stack.token(['change_manager']),
      body,
      headers: { 'idempotency-key': 'cab-2026-12-01-17' },
    });
    expect(otherCaller.status).toBe(202);
    expect(otherCaller.body.id).not.toBe(id);
  });

  it('lists changes with filters and cursor pagination, and hides them from reporters', async () => {
    const { ciId: ciOnly } = await seedCi(stack.db, { level: 'low' });
    const created = [];
    for (let i = 0; i < 3; i += 1) created.push((await submitChange(stack, requester, changeBody({ affectedCis: [ciOnly] }))).id);
    // The gate's first activity writes the record, just after the 202.
    await eventually(async () => (await stack.request('GET', `/changes?ciId=${ciOnly}`, { token: reviewerA })).body.items.length === 3);
    const first = await stack.request('GET', `/changes?ciId=${ciOnly}&limit=2`, { token: reviewerA });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    const second = await stack.request('GET', `/changes?ciId=${ciOnly}&limit=2&cursor=${first.body.nextCursor}`, { token: reviewerA });
    expect(second.body.nextCursor).toBeNull();
    const paged = [...first.body.items, ...second.body.items].map((c: { id: string }) => c.id);
    expect(paged.sort()).toEqual([...created].sort());
    const approved = await stack.request('GET', `/changes?risk=none&status=approved&limit=500`, { token: reviewerA });
    expect(approved.body.items.every((c: { risk: string; status: string }) => c.risk === 'none' && c.status === 'approved')).toBe(true);
    expect((await stack.request('GET', '/changes', { token: await stack.token(['reporter']) })).status).toBe(403);
    expect((await stack.request('POST', '/changes', { token: reviewerA, body: changeBody() })).status).toBe(403);
  });

  it('always reviews a change that implements a problem workaround', async () => {
    const accepted = await submitChange(stack, requester, changeBody({ affectedCis: [lowCi], problemId: 'PRB0040012' }));
    expect(accepted).toMatchObject({ reviewRequired: true, risk: 'low' });
    expect(accepted.reasons.join(' ')).toMatch(/workaround/);
    const change = await changeWithStatus(stack, requester, accepted.id, 'in_review');
    expect(change.problemId).toBe('PRB0040012');
    await reviewTask(stack, reviewerA, accepted.id);
  });

  it('rejects requests the gate cannot review in time', async () => {
    const past = await stack.request('POST', '/changes', {
      token: requester,
      body: changeBody({ plannedStart: new Date(Date.now() - 60_000).toISOString() }),
    });
    expect(past.status).toBe(400);
    expect(past.body.errors[0].path).toBe('body.plannedStart');
    const unknownCi = await stack.request('POST', '/changes', {
      token: requester,
      body: changeBody({ affectedCis: ['00000000-0000-4000-8000-000000000000'] }),
    });
    expect(unknownCi.status).toBe(400);
    expect(unknownCi.body.errors[0].path).toBe('body.affectedCis');
  });
});

describe('the OpenAPI document', () => {
  it('describes every change endpoint', async () => {
    const spec = await stack.request('GET', '/docs/json');
    expect(spec.status).toBe(200);
    for (const path of [
      '/changes',
      '/changes/servicenow',
      '/changes/jira',
      '/changes/{id}',
      '/changes/{id}/evidence',
      '/changes/{id}/implemented',
    ]) {
      expect(
        Object.values(spec.body.paths[path] ?? {}).every((operation) => (operation as { tags: string[] }).tags.includes('changes')),
        path,
      ).toBe(true);
    }
    expect(Object.keys(spec.body.paths['/changes/{id}'])).toEqual(['get', 'patch']);
  });
});

describe('changes from ITSM tools', () => {
  const snDate = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

  it('takes a ServiceNow outbound REST message, CIs by name, and never creates it twice', async () => {
    const message = {
      sys_id: 'c83c5e5347c12200e0ef563dbb9a7190',
      number: 'CHG0030042',
      short_description: 'Open port 8443 on the payments load balancer',
      description: 'Needed for the new partner API',
      cmdb_ci: 'payments-db',
      start_date: snDate(48),
      end_date: snDate(49),
      backout_plan: 'Close the port again',
      requested_by: 'beth.anglin',
      u_security_access_controls: 'false',
      u_security_network_configuration: 'true',
      u_security_data_handling: 'false',
      sys_updated_on: 'ignored by Warden',
    };
    const integration = await stack.token(['change_manager'], 'servicenow-integration');
    const first = await stack.request('POST', `/changes/servicenow?callbackUrl=${encodeURIComponent(`${receiver.url}/sn`)}`, {
      token: integration,
      body: message,
    });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body.risk).toBe('high');
    const resent = await stack.request('POST', '/changes/servicenow', { token: integration, body: message });
    expect(resent.body.id).toBe(first.body.id);

    const change = await changeWithStatus(stack, reviewerA, first.body.id, 'in_review');
    expect(change).toMatchObject({
      source: 'servicenow',
      externalRef: { system: 'servicenow', id: message.sys_id, key: 'CHG0030042' },
      requester: 'servicenow-integration',
      affectedCis: [criticalCi],
      securityImpact: { accessControls: false, networkConfiguration: true, dataHandling: false },
      plannedStart: `${message.start_date.replace(' ', 'T')}.000Z`,
      rollbackPlan: 'Close the port again',
    });
    // The person who raised it in ServiceNow may not review it in Warden either.
    const beth = await stack.token(['security_reviewer'], 'beth.anglin');
    const task = await reviewTask(stack, beth, first.body.id);
    expect((await decide(beth, task.id, 'rejected')).status).toBe(403);
  });

  it('takes a Jira Service Management issue webhook, impact from labels', async () => {
    const webhook = {
      timestamp: Date.now(),
      webhookEvent: 'jira:issue_created',
      issue: {
        id: '10234',
        key: 'CHG-17',
        self: 'https://example.atlassian.net/rest/api/2/issue/10234',
        fields: {
          summary: 'Grant the BI team read access to the orders schema',
          description: {
            type: 'doc',
            version: 1,
            content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Read-only role, masked PII columns' }] }],
          },
          labels: ['security-access-controls', 'security-data-handling'],
          reporter: { accountId: '5b10a2844c20165700ede21g', emailAddress: 'bi.lead@example.com' },
          customfield_10050: new Date(Date.now() + 48 * 3_600_000).toISOString().replace('Z', '+0000'),
          customfield_10051: new Date(Date.now() + 50 * 3_600_000).toISOString().replace('Z', '+0000'),
          customfield_10052: 'Drop the role',
          customfield_10053: [{ name: 'intranet-wiki' }],
          customfield_10054: null,
          customfield_99999: 'unrelated',
        },
      },
    };
    const jira = await stack.request('POST', '/changes/jira', { token: requester, body: webhook });
    expect(jira.status, JSON.stringify(jira.body)).toBe(202);
    expect(jira.body.risk).toBe('medium');
    const change = await changeWithStatus(stack, requester, jira.body.id, 'in_review');
    expect(change).toMatchObject({
      source: 'jira',
      externalRef: { system: 'jira', id: '10234', key: 'CHG-17' },
      description: 'Read-only role, masked PII columns',
      affectedCis: [lowCi],
      securityImpact: { accessControls: true, networkConfiguration: false, dataHandling: true },
      rollbackPlan: 'Drop the role',
    });

    const missingPlan = await stack.request('POST', '/changes/jira', {
      token: requester,
      body: { ...webhook, issue: { ...webhook.issue, id: '10235', fields: { ...webhook.issue.fields, customfield_10052: '' } } },
    });
    expect(missingPlan.status).toBe(400);
    expect(missingPlan.body.detail).toMatch(/customfield_10052/);
  });
});
