import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { responses } from '../../schemas/common';
import { metricsScrapers } from '../../http/roles';

export async function metricsRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/metrics', {
    config: { roles: metricsScrapers },
    schema: {
      tags: ['operations'],
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      description:
        'Prometheus text format: open incidents, tasks, approvals, test runs, patch compliance, request latency (scrape with an auditor token as bearer)',
      response: responses({ 200: z.string() }),
    },
    handler: async (_request, reply) => {
      await app.metrics.refresh();
      return reply.type(app.metrics.registry.contentType).send(await app.metrics.registry.metrics());
    },
  });
}
