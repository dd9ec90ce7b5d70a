import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HumanTask } from '../../db/database';
import { decodeCursor, pageOf } from '../../db/pagination';
import { findVisibleTask, listTasks } from '../../db/tasks';
import { responses, uuidParam } from '../../schemas/common';
import { decisionBody, decisionResult, taskListQuery, taskPage, taskView } from '../../schemas/tasks';
import { invalid, notFound } from '../problem';
import { decideTask } from '../task-decisions';
import { deciders, everyone } from '../roles';

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
    schema: {
      tags: ['tasks'],
      summary: 'Human tasks you may see; `mine=true` for those you may decide now',
      querystring: taskListQuery,
      response: responses({ 200: taskPage }),
    },
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
    handler: async (request) => decideTask(app, request.actor, request.params.id, request.body),
  });
}
