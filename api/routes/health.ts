import { pingDatabase } from '../../db/create-db';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { problemSchema } from '../../schemas/common';
import { sendProblem } from '../../http/plugins/errors';

/** How long /readyz waits for each dependency; the two checks run side by side. */
const readinessCheckMs = 1_500;

function withinMs<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const dependencyStatus = z.object({ status: z.literal('ok'), postgres: z.literal('ok'), temporal: z.literal('ok') });

export async function healthRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/healthz', {
    config: { public: true },
    schema: {
      tags: ['operations'],
      operationId: 'getHealth',
      summary: 'Liveness check',
      description: 'The process is up',
      security: [],
      response: { 200: z.object({ status: z.literal('ok') }) },
    },
    handler: async () => ({ status: 'ok' as const }),
  });

  routes.get('/readyz', {
    config: { public: true },
    schema: {
      tags: ['operations'],
      operationId: 'getReadiness',
      summary: 'Readiness check',
      description: 'PostgreSQL and Temporal are reachable',
      security: [],
      response: { 200: dependencyStatus, 503: problemSchema },
    },
    handler: async (request, reply) => {
      // Both checks run at once, each bounded, so the answer comes within 2 s whatever is down: a
      // load balancer's probe times out after a few seconds and would read a slow answer as a dead API.
      const failures: string[] = [];
      await Promise.all([
        withinMs(readinessCheckMs, pingDatabase(app.db)).catch((error: Error) => failures.push(`postgres: ${error.message}`)),
        app.temporal.client.connection
          .withDeadline(Date.now() + readinessCheckMs, () => app.temporal.client.workflowService.getSystemInfo({}))
          .catch((error: Error) => failures.push(`temporal: ${error.message}`)),
      ]);
      if (failures.length > 0) {
        request.log.warn({ failures }, 'not ready');
        reply.header('retry-after', '5');
        return sendProblem(
          reply,
          503,
          `not ready: ${failures
            .map((f) => f.split(':')[0])
            .sort()
            .join(', ')} unreachable`,
        );
      }
      return { status: 'ok' as const, postgres: 'ok' as const, temporal: 'ok' as const };
    },
  });
}
