import { pingDatabase } from '../../db/create-db';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { problemSchema } from '../../schemas/common';
import { sendProblem } from '../../http/plugins/errors';

const dependencyStatus = z.object({ status: z.literal('ok'), postgres: z.literal('ok'), temporal: z.literal('ok') });

export async function healthRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/healthz', {
    config: { public: true },
    schema: { tags: ['operations'], summary: 'The process is up', security: [], response: { 200: z.object({ status: z.literal('ok') }) } },
    handler: async () => ({ status: 'ok' as const }),
  });

  routes.get('/readyz', {
    config: { public: true },
    schema: {
      tags: ['operations'],
      summary: 'PostgreSQL and Temporal are reachable',
      security: [],
      response: { 200: dependencyStatus, 503: problemSchema },
    },
    handler: async (request, reply) => {
      const failures: string[] = [];
      await pingDatabase(app.db).catch((error: Error) => failures.push(`postgres: ${error.message}`));
      await app.temporal.client.workflowService.getSystemInfo({}).catch((error: Error) => failures.push(`temporal: ${error.message}`));
      if (failures.length > 0) {
        request.log.warn({ failures }, 'not ready');
        return sendProblem(reply, 503, `not ready: ${failures.map((f) => f.split(':')[0]).join(', ')} unreachable`);
      }
      return { status: 'ok' as const, postgres: 'ok' as const, temporal: 'ok' as const };
    },
  });
}
