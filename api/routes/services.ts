import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { createService, deleteService, findServiceOverview, listServices, updateService } from '../../db/services';
import {
  serviceChangeRequest,
  serviceCreateRequest,
  serviceListQuery,
  serviceOverview,
  servicePage,
  service,
  slaBelowFloor,
} from '../../schemas/cmdb';
import { isoTimestamps, responses, uuidParam } from '../../schemas/common';
import { pageRequest } from '../../http/paging';
import { invalid, notFound } from '../../http/problem';
import { cmdbEditors, everyone } from '../../http/roles';

export async function serviceRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const refuseBelowFloor = (sla: Parameters<typeof slaBelowFloor>[0]) => {
    const errors = slaBelowFloor(sla, app.config.WARDEN_SLA_MIN_TARGET);
    if (errors.length > 0) throw invalid(errors);
  };

  routes.post('/services', {
    config: { roles: cmdbEditors },
    schema: {
      tags: ['cmdb'],
      operationId: 'createService',
      summary: 'Register a service',
      description: 'Register a service; SLA fields left out take their defaults, none may be below WARDEN_SLA_MIN_TARGET',
      body: serviceCreateRequest,
      response: responses({ 201: service }),
    },
    handler: async (request, reply) => {
      refuseBelowFloor(request.body.sla);
      return reply.code(201).send(isoTimestamps(await createService(app.db, request.body, request.actor)));
    },
  });

  routes.get('/services', {
    config: { roles: everyone },
    schema: {
      tags: ['cmdb'],
      operationId: 'listServices',
      summary: 'List services',
      description: 'List services, oldest first',
      querystring: serviceListQuery,
      response: responses({ 200: servicePage }),
    },
    handler: async (request) => {
      const { name, owner, ...paging } = request.query;
      const { items, nextCursor } = await listServices(app.db, { nameContains: name, owner }, pageRequest(paging));
      return { items: items.map(isoTimestamps), nextCursor };
    },
  });

  routes.get('/services/:id', {
    config: { roles: everyone },
    schema: {
      tags: ['cmdb'],
      operationId: 'getService',
      summary: 'Read a service',
      description: 'Read a service with its CI count and the security measures it requires',
      params: uuidParam,
      response: responses({ 200: serviceOverview }),
    },
    handler: async (request) => {
      const overview = await findServiceOverview(app.db, request.params.id);
      if (!overview) throw notFound('service', request.params.id);
      return isoTimestamps(overview);
    },
  });

  routes.patch('/services/:id', {
    config: { roles: cmdbEditors },
    schema: {
      tags: ['cmdb'],
      operationId: 'updateService',
      summary: 'Change a service',
      description: 'Change a service; SLA targets merge per key, none may be below WARDEN_SLA_MIN_TARGET',
      params: uuidParam,
      body: serviceChangeRequest,
      response: responses({ 200: service }),
    },
    handler: async (request) => {
      refuseBelowFloor(request.body.sla);
      return isoTimestamps(await updateService(app.db, request.params.id, request.body, request.actor));
    },
  });

  routes.delete('/services/:id', {
    config: { roles: cmdbEditors },
    schema: {
      tags: ['cmdb'],
      operationId: 'deleteService',
      summary: 'Delete a service',
      description: 'Delete a service no configuration item references',
      params: uuidParam,
      response: responses({ 204: z.null() }),
    },
    handler: async (request, reply) => {
      await deleteService(app.db, request.params.id, request.actor);
      return reply.code(204).send(null);
    },
  });
}
