import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents, verifyAuditChain } from '../../db/audit';
import { appendTaskDecision, openTask } from '../../db/tasks';
import type { TaskDecision } from '../../domain/human-task';
import { startStack, type Stack } from '../setup/stack';

// Issue 21: a decision the workflow accepted is recorded with its audit event in one statement when
// the row is on the record and of the kind the workflow knows; otherwise (its task moved on a merge)
// from the row as it is. Either way one decision, one event, naming the record the row names.

const subject = (id: string) => ({ type: 'incident', id });

async function openedTask(stack: Stack, incidentId: string) {
  const taskId = randomUUID();
  await openTask(stack.db, {
    taskId,
    workflowId: `incident/${incidentId}`,
    kind: 'incident.acknowledge',
    subject: subject(incidentId),
    title: 'Acknowledge',
    details: {},
    allowedRoles: ['security_analyst'],
    assignees: [],
    outcomes: ['acknowledged'],
    requester: null,
    forbidSelfDecision: false,
    approvalsRequired: 1,
    approveOutcome: null,
    deadlineAt: null,
  });
  return taskId;
}

const decisionBy = (principalId: string): TaskDecision => ({
  principalId,
  outcome: 'acknowledged',
  comment: 'seen',
  data: null,
  at: new Date().toISOString(),
});

async function decidedEvents(stack: Stack, taskId: string) {
  const events = await listAuditEvents(stack.db, { action: 'task.decided', limit: 1000 });
  return events.filter((event) => (event.details as { taskId?: string }).taskId === taskId);
}

describe('recording a decision', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('writes the row and its event once, however often it is retried', async () => {
    const incidentId = randomUUID();
    const taskId = await openedTask(stack, incidentId);
    const record = {
      taskId,
      decision: decisionBy('ana'),
      closes: true,
      expected: { subject: subject(incidentId), kind: 'incident.acknowledge' },
    };
    await appendTaskDecision(stack.db, record);
    await appendTaskDecision(stack.db, record);

    const row = await stack.db.selectFrom('human_tasks').selectAll().where('id', '=', taskId).executeTakeFirstOrThrow();
    expect(row.status).toBe('decided');
    expect(row.outcome).toBe('acknowledged');
    expect(row.decisions).toHaveLength(1);
    const events = await decidedEvents(stack, taskId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'ana', subject_type: 'incident', subject_id: incidentId });
    expect(events[0]?.details).toMatchObject({ taskId, kind: 'incident.acknowledge', outcome: 'acknowledged', comment: 'seen' });
    // Hashed in Node before the statement, the event verifies on the chain like any other.
    expect(await verifyAuditChain(stack.db)).toMatchObject({ valid: true, pending: 0 });
  });

  it('names the record the row is on when the task moved to another incident', async () => {
    const mergedAway = randomUUID();
    const survivor = randomUUID();
    const taskId = await openedTask(stack, mergedAway);
    await stack.db.updateTable('human_tasks').set({ subject_id: survivor }).where('id', '=', taskId).execute();

    await appendTaskDecision(stack.db, {
      taskId,
      decision: decisionBy('bob'),
      closes: true,
      expected: { subject: subject(mergedAway), kind: 'incident.acknowledge' },
    });

    const events = await decidedEvents(stack, taskId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: 'bob', subject_type: 'incident', subject_id: survivor });
  });

  it('records nothing on a task that is no longer open', async () => {
    const incidentId = randomUUID();
    const taskId = await openedTask(stack, incidentId);
    await stack.db.updateTable('human_tasks').set({ status: 'cancelled' }).where('id', '=', taskId).execute();

    await appendTaskDecision(stack.db, {
      taskId,
      decision: decisionBy('ana'),
      closes: true,
      expected: { subject: subject(incidentId), kind: 'incident.acknowledge' },
    });

    const row = await stack.db.selectFrom('human_tasks').select(['status', 'decisions']).where('id', '=', taskId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'cancelled', decisions: [] });
    expect(await decidedEvents(stack, taskId)).toHaveLength(0);
  });
});
