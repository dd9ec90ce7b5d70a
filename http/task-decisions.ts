import type { FastifyInstance } from 'fastify';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { recordAudit } from '../db/audit';
import { findTask } from '../db/tasks';
import type { Actor } from '../domain/roles';
import type { DecisionBody } from '../schemas/tasks';
import { decide, refusalTypes, type RefusalType } from '../workflows/human-task.definitions';
import { conflict, invalid, notFound, Problem } from './problem';

const refusalStatus: Record<RefusalType, number> = {
  [refusalTypes.notFound]: 404,
  [refusalTypes.closed]: 409,
  [refusalTypes.notPermitted]: 403,
  [refusalTypes.ownRequest]: 403,
  [refusalTypes.sameApprover]: 403,
  [refusalTypes.outcomeNotAllowed]: 400,
  [refusalTypes.refused]: 409,
};

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
    return await app.temporal.client.workflow.getHandle(task.workflow_id).executeUpdate(decide, {
      args: [{ taskId: task.id, actor: { principalId, roles }, ...decision }],
    });
  } catch (error) {
    const problem = refusalProblem(error);
    if (!problem) throw error;
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
        refusal: refusalType(error),
        reason: problem.detail,
      },
    });
    throw problem;
  }
}

function refusalType(error: unknown): string {
  return error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure
    ? (error.cause.type ?? 'unknown')
    : 'WorkflowFinished';
}

function refusalProblem(error: unknown): Problem | undefined {
  if (error instanceof WorkflowNotFoundError) return conflict('the workflow that owned this task has finished');
  if (!(error instanceof WorkflowUpdateFailedError) || !(error.cause instanceof ApplicationFailure)) return undefined;
  const status = refusalStatus[error.cause.type as RefusalType];
  if (!status) return undefined;
  if (status === 400) return invalid([{ path: 'body.outcome', message: error.cause.message }]);
  return new Problem(status, status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Conflict', error.cause.message);
}
