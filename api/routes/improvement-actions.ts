import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listImprovementActions, toImprovementView, updateImprovementAction } from '../../db/improvement-actions';
import { responses, uuidParam } from '../../schemas/common';
import { improvementAction, improvementChangeRequest, improvementListQuery, improvementPage } from '../../schemas/reviews';
import { pageRequest } from '../../http/paging';
import { recordOwners, reportReaders } from '../../http/roles';

export async function improvementActionRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['security reviews'];

  routes.get('/improvement-actions', {
    config: { roles: reportReaders },
    schema: {
      tags,
      operationId: 'listImprovementActions',
      summary: 'List improvement actions',
      description: 'The improvement backlog, oldest first, filtered by status, owner, source, service or overdue',
      querystring: improvementListQuery,
      response: responses({ 200: improvementPage }),
    },
    handler: async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const { items, nextCursor } = await listImprovementActions(app.db, filter, pageRequest({ limit, cursor }));
      return { items: items.map(toImprovementView), nextCursor };
    },
  });

  routes.patch('/improvement-actions/:id', {
    config: { roles: recordOwners },
    schema: {
      tags,
      operationId: 'updateImprovementAction',
      summary: 'Record progress on an improvement action',
      description: 'Record progress on an action: its owner or the Security Manager (only the latter moves the due date)',
      params: uuidParam,
      body: improvementChangeRequest,
      response: responses({ 200: improvementAction }),
    },
    handler: async (request) => {
      const { stage, ...rest } = request.body;
      return toImprovementView(
        await updateImprovementAction(app.db, request.params.id, { ...rest, ...(stage ? { status: stage } : {}) }, request.actor),
      );
    },
  });
}
