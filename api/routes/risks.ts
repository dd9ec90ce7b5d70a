import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createRisk, deleteRisk, findRisk, listRisks, toRiskView, updateRisk } from '../../db/risks';
import { responses, uuidParam } from '../../schemas/common';
import { risk, riskChangeRequest, riskCreateRequest, riskListQuery, riskPage } from '../../schemas/reviews';
import { pageRequest } from '../../http/paging';
import { notFound } from '../../http/problem';
import { recordOwners, reportReaders, securityManagement } from '../../http/roles';

export async function riskRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['risks'];

  routes.post('/risks', {
    config: { roles: securityManagement },
    schema: {
      tags,
      operationId: 'createRisk',
      summary: 'Register a risk',
      description: 'Register a risk; an accepted risk carries the expiry of its exception',
      body: riskCreateRequest,
      response: responses({ 201: risk }),
    },
    handler: async (request, reply) => reply.code(201).send(toRiskView(await createRisk(app.db, request.body, request.actor))),
  });

  routes.get('/risks', {
    config: { roles: reportReaders },
    schema: {
      tags,
      operationId: 'listRisks',
      summary: 'List the risk register',
      description: 'The risk register, oldest first; `reviewDue=true` for risks past their review date',
      querystring: riskListQuery,
      response: responses({ 200: riskPage }),
    },
    handler: async (request) => {
      const { owner, treatment, reviewDue, ...paging } = request.query;
      const { items, nextCursor } = await listRisks(app.db, { owner, treatment, reviewDue }, pageRequest(paging));
      return { items: items.map(toRiskView), nextCursor };
    },
  });

  routes.get('/risks/:id', {
    config: { roles: reportReaders },
    schema: {
      tags,
      operationId: 'getRisk',
      summary: 'Read a risk',
      description: 'One risk',
      params: uuidParam,
      response: responses({ 200: risk }),
    },
    handler: async (request) => {
      const found = await findRisk(app.db, request.params.id);
      if (!found) throw notFound('risk', request.params.id);
      return toRiskView(found);
    },
  });

  routes.patch('/risks/:id', {
    config: { roles: recordOwners },
    schema: {
      tags,
      operationId: 'updateRisk',
      summary: 'Update a risk',
      description: 'Update a risk: the Security Manager, or the risk owner (who may not hand it on)',
      params: uuidParam,
      body: riskChangeRequest,
      response: responses({ 200: risk }),
    },
    handler: async (request) => toRiskView(await updateRisk(app.db, request.params.id, request.body, request.actor)),
  });

  routes.delete('/risks/:id', {
    config: { roles: securityManagement },
    schema: {
      tags,
      operationId: 'deleteRisk',
      summary: 'Remove a risk',
      description: 'Remove a risk from the register (audited)',
      params: uuidParam,
      response: responses({ 204: z.null() }),
    },
    handler: async (request, reply) => {
      await deleteRisk(app.db, request.params.id, request.actor);
      return reply.code(204).send(null);
    },
  });
}
