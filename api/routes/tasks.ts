import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { pageOf } from '../../db/pagination';
import { findVisibleTask, listTasks } from '../../db/tasks';
import { responses, uuidParam } from '../../schemas/common';
import { decisionBody, decisionResult, taskListQuery, taskPage, taskView } from '../../schemas/tasks';
import { cursorFrom } from '../../http/paging';
import { notFound } from '../../http/problem';
import { toTaskView } from '../views';
import { decideTask } from '../../http/task-decisions';
import { deciders, everyone } from '../../http/roles';
import { idempotencyHeaders } from '../../schemas/idempotency';
import { idempotencyKey } from '../idempotency';

export async function taskRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/tasks', {
    config: { roles: everyone },
    schema: {
      tags: ['tasks'],
      operationId: 'listTasks',
      summary: 'List human tasks',
      description:
        'Human tasks you may see (on records of yours, assigned to you, or all for oversight roles); `mine=true` for those you may decide now',
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
    schema: {
      tags: ['tasks'],
      operationId: 'getTask',
      summary: 'Read a human task',
      description: 'One human task with its decisions',
      params: uuidParam,
      response: responses({ 200: taskView }),
    },
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
      operationId: 'decideTask',
      summary: 'Decide a human task',
      description:
        'Decide a task on a record of yours (or one assigned to you): the workflow validates the decision (role, own request, four-eyes, outcome) before accepting it. The same decision (outcome, comment and data) sent again by the same person after it took effect is answered with its result again, with or without Idempotency-Key; a key also makes a different request under it a 409. 503 with Retry-After when the task is not ready for decisions yet, or when the outcome cannot be told.',
      params: uuidParam,
      headers: idempotencyHeaders,
      body: decisionBody,
      response: responses({ 200: decisionResult }),
    },
    handler: async (request) => decideTask(app, request.actor, request.params.id, request.body, idempotencyKey(request)),
  });
}
