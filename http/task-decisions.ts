import type { FastifyInstance } from 'fastify';
import { recordAudit } from '../db/audit';
import { findTask } from '../db/tasks';
import type { Actor } from '../domain/roles';
import type { DecisionBody } from '../schemas/tasks';
import { decideUpdate } from '../workflows/human-task.definitions';
import { conflict, notFound } from './problem';
import { updateRefusal } from './update-refusal';

/**
 * The one way a person decides a task, for the JSON API and the web inbox alike: the task's
 * workflow validates the decision in its `decide` Update; a refusal is audited (it leaves no
 * workflow history) and thrown as a problem with the validator's reason.
 */
export async function decideTask(app: FastifyInstance, actor: Actor, taskId: string, decision: DecisionBody) {
  // Not filtered by visibility: whether this person may decide is the workflow's answer (403).
  const task = await findTask(app.db, taskId);
  if (!task) throw notFound('task', taskId);
  if (task.status !== 'open') throw conflict(`the task is already ${task.status}${task.outcome ? ` (${task.outcome})` : ''}`);
  const { principalId, roles } = actor;
  try {
    return await app.temporal.client.workflow.getHandle(task.workflow_id).executeUpdate(decideUpdate, {
      args: [{ taskId: task.id, actor: { principalId, roles }, ...decision }],
    });
  } catch (error) {
    const refusal = updateRefusal(error, 'the workflow that owned this task has finished');
    if (!refusal) throw error;
    const { problem } = refusal;
    await recordAudit(app.db, {
      actor: principalId,
      action: 'task.decision_refused',
      subjectType: task.subject_type,
      subjectId: task.subject_id,
      // The refusal's type, not its wording, is what measures count (e.g. refused self-approvals).
      details: {
        taskId: task.id,
        kind: task.kind,
        outcome: decision.outcome,
        status: problem.status,
        refusal: refusal.type,
        reason: problem.detail,
      },
    });
    throw problem;
  }
}
