import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import {
  createConfigurationItem,
  findConfigurationItem,
  listConfigurationItems,
  retireConfigurationItem,
  updateConfigurationItem,
} from '../../db/cis';
import { baselineFor } from '../../domain/classification';
import {
  configurationItem,
  configurationItemChangeRequest,
  configurationItemCreateRequest,
  configurationItemDetail,
  configurationItemListQuery,
  configurationItemPage,
} from '../../schemas/cmdb';
import { isoTimestamps, responses, uuidParam } from '../../schemas/common';
import { pageRequest } from '../../http/paging';
import { notFound } from '../../http/problem';
import { cmdbEditors, everyone } from '../../http/roles';

export async function configurationItemRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/cis', {
    config: { roles: cmdbEditors },
    schema: {
      tags: ['cmdb'],
      operationId: 'createConfigurationItem',
      summary: 'Register a configuration item',
      description: 'Register a configuration item',
      body: configurationItemCreateRequest,
      response: responses({ 201: configurationItem }),
    },
    handler: async (request, reply) =>
      reply.code(201).send(isoTimestamps(await createConfigurationItem(app.db, request.body, request.actor))),
  });

  routes.get('/cis', {
    config: { roles: everyone },
    schema: {
      tags: ['cmdb'],
      operationId: 'listConfigurationItems',
      summary: 'List configuration items',
      description: 'List configuration items, oldest first',
      querystring: configurationItemListQuery,
      response: responses({ 200: configurationItemPage }),
    },
    handler: async (request) => {
      const { serviceId, type, owner, minLevel, status, ...paging } = request.query;
      const filter = { serviceId, type, owner, minimumLevel: minLevel, status };
      const { items, nextCursor } = await listConfigurationItems(app.db, filter, pageRequest(paging));
      return { items: items.map(isoTimestamps), nextCursor };
    },
  });

  routes.get('/cis/:id', {
    config: { roles: everyone },
    schema: {
      tags: ['cmdb'],
      operationId: 'getConfigurationItem',
      summary: 'Read a configuration item',
      description: 'Read a configuration item with the baseline measures its classification requires',
      params: uuidParam,
      response: responses({ 200: configurationItemDetail }),
    },
    handler: async (request) => {
      const item = await findConfigurationItem(app.db, request.params.id);
      if (!item) throw notFound('configuration item', request.params.id);
      return { ...isoTimestamps(item), baseline: baselineFor(item.classification) };
    },
  });

  routes.patch('/cis/:id', {
    config: { roles: cmdbEditors },
    schema: {
      tags: ['cmdb'],
      operationId: 'updateConfigurationItem',
      summary: 'Change a configuration item',
      description: 'Change an active configuration item',
      params: uuidParam,
      body: configurationItemChangeRequest,
      response: responses({ 200: configurationItem }),
    },
    handler: async (request) => isoTimestamps(await updateConfigurationItem(app.db, request.params.id, request.body, request.actor)),
  });

  routes.delete('/cis/:id', {
    config: { roles: cmdbEditors },
    schema: {
      tags: ['cmdb'],
      operationId: 'retireConfigurationItem',
      summary: 'Retire a configuration item',
      description: 'Retire a configuration item (it is kept, read-only, for history)',
      params: uuidParam,
      response: responses({ 204: z.null() }),
    },
    handler: async (request, reply) => {
      await retireConfigurationItem(app.db, request.params.id, request.actor);
      return reply.code(204).send(null);
    },
  });
}
