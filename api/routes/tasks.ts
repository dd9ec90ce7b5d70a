import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { recordAudit } from '../../db/audit';
import type { HumanTask } from '../../db/database';
import { decodeCursor, pageOf } from '../../db/pagination';
import { findTask, findVisibleTask, listTasks } from '../../db/tasks';
import { responses, uuidParam } from '../../schemas/common';
import { decisionBody, decisionResult, taskListQuery, taskPage, taskView } from '../../schemas/tasks';
import { decide, refusalTypes, type RefusalType } from '../../workflows/human-task.definitions';
import { conflict, invalid, notFound, Problem } from '../problem';
import { deciders, everyone } from '../roles';

const refusalStatus: Record<RefusalType, number> = {
  [refusalTypes.notFound]: 404,
  [refusalTypes.closed]: 409,
  [refusalTypes.notPermitted]: 403,
  [refusalTypes.ownRequest]: 403,
  [refusalTypes.sameApprover]: 403,
  [refusalTypes.outcomeNotAllowed]: 400,
  [refusalTypes.refused]: 409,
};

export function toTaskView(task: HumanTask) {
  return {
    id: task.id,
    kind: task.kind,
    subject: { type: task.subject_type, id: task.subject_id },
    title: task.title,
    details: task.details,
    allowedRoles: task.allowed_roles,
    assignees: task.assignees,
    allowedOutcomes: task.allowed_outcomes,
    requester: task.requester,
    approvalsRequired: task.approvals_required,
    status: task.status,
    deadlineAt: task.deadline_at?.toISOString() ?? null,
    overdue: task.status === 'open' && task.deadline_at !== null && task.deadline_at.getTime() < Date.now(),
    escalationLevel: task.escalation_level,
    outcome: task.outcome,
    decisions: task.decisions,
    createdAt: task.created_at.toISOString(),
    closedAt: task.closed_at?.toISOString() ?? null,
  };
}

export function cursorFrom(cursor: string | undefined) {
  try {
    return decodeCursor(cursor);
  } catch {
    throw invalid([{ path: 'querystring.cursor', message: 'is not a cursor this API issued' }]);
  }
}

export async function taskRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/tasks', {
    config: { roles: everyone },
    schema: { tags: ['tasks'], summary: 'Human tasks you may see; `mine=true` for those you may decide now', querystring: taskListQuery, response: responses({ 200: taskPage }) },
    handler: async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const rows = await listTasks(app.db, request.actor, { ...filter, limit, after: cursorFrom(cursor) });
      const { items, nextCursor } = pageOf(rows, limit);
      return { items: items.map(toTaskView), nextCursor };
    },
  });

  routes.get('/tasks/:id', {
    config: { roles: everyone },
    schema: { tags: ['tasks'], summary: 'One human task with its decisions', params: uuidParam, response: responses({ 200: taskView }) },
    handler: async (request) => {
      const task = await findVisibleTask(app.db, request.actor, request.params.id);
      if (!task) throw notFound('task', request.params.id);
      return toTaskView(task);
    },
  });

  routes.post('/tasks/:id/decision', {
    config: { roles: deciders },
    schema: {
      tags: ['tasks'],
      summary: 'Decide a task: the workflow validates the decision (role, own request, four-eyes, outcome) before accepting it',
      params: uuidParam,
      body: decisionBody,
      response: responses({ 200: decisionResult }),
    },
    handler: async (request) => {
      // Not filtered by visibility: whether this person may decide is the workflow's answer (403).
      const task = await findTask(app.db, request.params.id);
      if (!task) throw notFound('task', request.params.id);
      if (task.status !== 'open') throw conflict(`the task is already ${task.status}${task.outcome ? ` (${task.outcome})` : ''}`);
      const { principalId, roles } = request.actor;
      try {
        return await app.temporal.client.workflow.getHandle(task.workflow_id).executeUpdate(decide, {
          args: [{ taskId: task.id, actor: { principalId, roles }, ...request.body }],
        });
      } catch (error) {
        const problem = refusalProblem(error);
        if (!problem) throw error;
        // A refused attempt leaves no workflow history; the audit trail keeps it.
        await recordAudit(app.db, {
          actor: principalId,
          action: 'task.decision_refused',
          subjectType: task.subject_type,
          subjectId: task.subject_id,
          details: { taskId: task.id, kind: task.kind, outcome: request.body.outcome, status: problem.status, reason: problem.detail },
        });
        throw problem;
      }
    },
  });
}

function refusalProblem(error: unknown): Problem | undefined {
  if (error instanceof WorkflowNotFoundError) return conflict('the workflow that owned this task has finished');
  if (!(error instanceof WorkflowUpdateFailedError) || !(error.cause instanceof ApplicationFailure)) return undefined;
  const status = refusalStatus[error.cause.type as RefusalType];
  if (!status) return undefined;
  if (status === 400) return invalid([{ path: 'body.outcome', message: error.cause.message }]);
  return new Problem(status, status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Conflict', error.cause.message);
}
