import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../../db/create-db';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { eventually, startStack, type Stack } from '../setup/stack';
import { signedIn } from '../setup/web';
import { linkPendingAudit } from '../../db/audit-linker';

// Issue #14: a retried decision whose first try succeeded answered 409 (finding 3); a decision the
// workflow could not take yet was answered 404 and audited as a refusal (finding 9).

let stack: Stack;
let analyst: string;
let incidentId: string;
let workflowId: string;

let reporter: string;
let ciId: string;

/** Reports an incident the analyst may decide on; answers its id and workflow id. */
async function reportIncident(title: string) {
  const reported = await stack.request('POST', '/incidents', {
    token: reporter,
    body: {
      title,
      description: 'Mail rules forward to an outside address',
      category: 'unauthorised_access',
      affectedCis: [ciId],
      source: 'helpdesk',
      occurredAt: '2026-11-20T01:00:00Z',
      detectedAt: '2026-11-20T02:00:00Z',
    },
  });
  expect(reported.status).toBe(202);
  return { id: reported.body.id as string, workflowId: reported.body.workflowId as string };
}

beforeAll(async () => {
  stack = await startStack();
  analyst = await stack.token(['security_analyst'], 'ana');
  reporter = await stack.token(['reporter'], 'rita');
  ({ ciId } = await seedCi(stack.db, { owner: 'sam' }));
  ({ id: incidentId, workflowId } = await reportIncident('Phishing mailbox compromise'));
});
afterAll(async () => {
  await stack?.close();
});

const keyed = (taskId: string, key: string, body: Record<string, unknown>) =>
  stack.request('POST', `/tasks/${taskId}/decision`, { token: analyst, body, headers: { 'idempotency-key': key } });

const auditCount = async (action: string, taskId: string) => {
  await linkPendingAudit(stack.db);
  return (await stack.db.selectFrom('audit_events').select('details').where('action', '=', action).execute()).filter(
    (event) => (event.details as { taskId?: string }).taskId === taskId,
  ).length;
};

describe('a decision with an Idempotency-Key', () => {
  it('answers a retry of a decision that succeeded with the same result, and records it once', async () => {
    const task = await openTask(stack, analyst, incidentId, 'incident.acknowledge');
    const key = `ack-${randomUUID()}`;
    const first = await keyed(task.id, key, { outcome: 'acknowledged', comment: 'on it' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ taskId: task.id, status: 'decided', outcome: 'acknowledged' });

    const retry = await keyed(task.id, key, { outcome: 'acknowledged', comment: 'on it' });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(await auditCount('task.decided', task.id)).toBe(1);
    expect(await auditCount('task.decision_refused', task.id)).toBe(0);

    // The key names that one request: another body under it is a conflict; no key, the task's state.
    const reused = await keyed(task.id, key, { outcome: 'acknowledged', comment: 'something else' });
    expect(reused.status).toBe(409);
    expect(reused.body.detail).toMatch(/Idempotency-Key/);
    expect((await decide(stack, analyst, task.id, 'acknowledged')).status).toBe(409);
  }, 60_000);

  it('gives the key back when the decision is refused before the workflow is asked, so it can carry the corrected one', async () => {
    const { id } = await reportIncident('Triage sent with a category that does not exist');
    const acknowledge = await openTask(stack, analyst, id, 'incident.acknowledge');
    expect((await decide(stack, analyst, acknowledge.id, 'acknowledged')).status).toBe(200);
    const task = await openTask(stack, analyst, id, 'incident.triage');
    const key = `triage-${randomUUID()}`;
    const refused = await keyed(task.id, key, { outcome: 'triaged', data: { category: 'not-a-category' } });
    expect(refused.status).toBe(400);
    expect(await stack.db.selectFrom('idempotency_keys').select('key').where('key', '=', key).executeTakeFirst()).toBeUndefined();

    const corrected = await keyed(task.id, key, { outcome: 'triaged', data: { category: 'malware' } });
    expect(corrected.status).toBe(200);
    expect(corrected.body).toMatchObject({ taskId: task.id, status: 'decided', outcome: 'triaged' });
    // Taken: the key now holds its answer, which a retry gets (the completion does not hold up the answer).
    await eventually(
      async () => {
        const stored = await stack.db.selectFrom('idempotency_keys').select('request').where('key', '=', key).executeTakeFirst();
        return (stored?.request as { result?: unknown } | undefined)?.result;
      },
      20_000,
      'the key holds the answer',
    );
    const retry = await keyed(task.id, key, { outcome: 'triaged', data: { category: 'malware' } });
    expect(retry.body).toEqual(corrected.body);
  }, 60_000);

  it('gives concurrent retries one decision and one answer', async () => {
    const task = await openTask(stack, analyst, incidentId, 'incident.triage');
    const key = `triage-${randomUUID()}`;
    const body = { outcome: 'triaged', data: { scope: 'one mailbox' } };
    const answers = await Promise.all([keyed(task.id, key, body), keyed(task.id, key, body), keyed(task.id, key, body)]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((answer) => JSON.stringify(answer.body))).size).toBe(1);
    expect(await auditCount('task.decided', task.id)).toBe(1);
    const row = await stack.db.selectFrom('human_tasks').select('decisions').where('id', '=', task.id).executeTakeFirstOrThrow();
    expect(row.decisions).toHaveLength(1);
  }, 60_000);
});

describe('a repeated decision (issue #21)', () => {
  it('answers the same decision again by the same person, without a key, with what it answered, and records it once', async () => {
    const { id } = await reportIncident('Repeated acknowledgement');
    const task = await openTask(stack, analyst, id, 'incident.acknowledge');
    const first = await decide(stack, analyst, task.id, 'acknowledged', { comment: 'looking now' });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ taskId: task.id, status: 'decided', outcome: 'acknowledged', approvals: 0, approvalsRequired: 1 });

    // As a client does when the first answer was lost: the same request again.
    const again = await decide(stack, analyst, task.id, 'acknowledged', { comment: 'looking now' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    // Other words, or another person, are another decision on a decided task.
    expect((await decide(stack, analyst, task.id, 'acknowledged', { comment: 'on it' })).status).toBe(409);
    const otherAnalyst = await stack.token(['security_analyst'], 'bea');
    expect((await decide(stack, otherAnalyst, task.id, 'acknowledged', { comment: 'looking now' })).status).toBe(409);

    expect(await auditCount('task.decided', task.id)).toBe(1);
    const row = await stack.db.selectFrom('human_tasks').select('decisions').where('id', '=', task.id).executeTakeFirstOrThrow();
    expect(row.decisions).toHaveLength(1);
  }, 60_000);

  it('answers 200, not 503, when the decision took effect but its idempotency key could not be completed', async () => {
    const { id } = await reportIncident('Answer lost after the Update');
    const task = await openTask(stack, analyst, id, 'incident.acknowledge');
    const key = `ack-${randomUUID()}`;
    const body = { outcome: 'acknowledged', data: { note: 'mailbox locked' } };
    // PostgreSQL refuses to complete this key as a server that is shutting down would (57P03), and
    // only that: the key's claim (an insert) and the decision's own record go through. The answer does
    // not wait for the completion, so the refusal stays until the retry has been answered.
    await sql`create function refuse_key_completion() returns trigger language plpgsql as $$
      begin raise exception 'the database system is shutting down' using errcode = '57P03'; end $$`.execute(stack.db);
    await sql`create trigger refuse_key_completion before update on idempotency_keys
      for each row when (old.key = ${sql.lit(key)}) execute function refuse_key_completion()`.execute(stack.db);
    try {
      const first = await keyed(task.id, key, body);
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ taskId: task.id, status: 'decided', outcome: 'acknowledged' });

      // The key never gets its answer; the retry finds the decision on the task instead.
      const retry = await keyed(task.id, key, body);
      expect(retry.status).toBe(200);
      expect(retry.body).toEqual(first.body);
      const stored = await stack.db.selectFrom('idempotency_keys').select('request').where('key', '=', key).executeTakeFirstOrThrow();
      expect(stored.request).not.toHaveProperty('result');
      expect(await auditCount('task.decided', task.id)).toBe(1);
    } finally {
      await sql`drop trigger refuse_key_completion on idempotency_keys`.execute(stack.db);
      await sql`drop function refuse_key_completion()`.execute(stack.db);
    }
  }, 60_000);
});

describe('a decision the workflow cannot take yet', () => {
  it('is a 503 with Retry-After, not a refusal, and is not audited as one', async () => {
    // The row is recorded but the workflow does not know the task (as between a worker's crash and
    // its replay): the workflow's validator answers TaskNotFound.
    const taskId = randomUUID();
    await stack.db
      .insertInto('human_tasks')
      .values({
        id: taskId,
        workflow_id: workflowId,
        kind: 'incident.step',
        subject_type: 'incident',
        subject_id: incidentId,
        title: 'Recorded before the crash',
        details: json({}),
        allowed_roles: ['security_analyst'],
        assignees: [],
        allowed_outcomes: ['done'],
        requester: null,
        forbid_self_decision: false,
        approvals_required: 1,
        approve_outcome: null,
        status: 'open',
        deadline_at: null,
      })
      .execute();
    const response = await decide(stack, analyst, taskId, 'done');
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(response.body).toMatchObject({ status: 503, title: 'Service Unavailable' });
    expect(await auditCount('task.decision_refused', taskId)).toBe(0);
    // The inbox's form says the same: try again, nothing was refused.
    const inbox = await signedIn(stack, analyst);
    const form = await inbox.post(`/ui/tasks/${taskId}/decision`, { outcome: 'done', returnTo: '/ui/tasks' });
    expect(form.status).toBe(503);
    expect(form.body).toContain('not taken yet');
    expect(form.body).not.toContain('refused');
    expect(await auditCount('task.decision_refused', taskId)).toBe(0);
    const row = await stack.db.selectFrom('human_tasks').select(['status', 'decisions']).where('id', '=', taskId).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'open', decisions: [] });
  }, 60_000);

  it('still answers 404 for a task that does not exist', async () => {
    const response = await decide(stack, analyst, randomUUID(), 'done');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });
});
