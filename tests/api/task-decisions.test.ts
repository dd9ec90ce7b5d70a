import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from '../../db/create-db';
import { decide, openTask, seedCi } from '../setup/fixtures';
import { startStack, type Stack } from '../setup/stack';
import { signedIn } from '../setup/web';

// Issue #14: a retried decision whose first try succeeded answered 409 (finding 3); a decision the
// workflow could not take yet was answered 404 and audited as a refusal (finding 9).

let stack: Stack;
let analyst: string;
let incidentId: string;
let workflowId: string;

beforeAll(async () => {
  stack = await startStack();
  analyst = await stack.token(['security_analyst'], 'ana');
  const reporter = await stack.token(['reporter'], 'rita');
  const { ciId } = await seedCi(stack.db, { owner: 'sam' });
  const reported = await stack.request('POST', '/incidents', {
    token: reporter,
    body: {
      title: 'Phishing mailbox compromise',
      description: 'Mail rules forward to an outside address',
      category: 'unauthorised_access',
      affectedCis: [ciId],
      source: 'helpdesk',
      occurredAt: '2026-11-20T01:00:00Z',
      detectedAt: '2026-11-20T02:00:00Z',
    },
  });
  expect(reported.status).toBe(202);
  incidentId = reported.body.id;
  workflowId = reported.body.workflowId;
});
afterAll(async () => {
  await stack?.close();
});

const keyed = (taskId: string, key: string, body: Record<string, unknown>) =>
  stack.request('POST', `/tasks/${taskId}/decision`, { token: analyst, body, headers: { 'idempotency-key': key } });

const auditCount = async (action: string, taskId: string) =>
  (await stack.db.selectFrom('audit_events').select('details').where('action', '=', action).execute()).filter(
    (event) => (event.details as { taskId?: string }).taskId === taskId,
  ).length;

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
