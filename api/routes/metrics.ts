import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { responses } from '../../schemas/common';
import { metricsScrapers } from '../../http/roles';

const prometheusText = {
  description: 'Prometheus text exposition format 0.0.4',
  content: { 'text/plain': { schema: z.string() } },
};

export async function metricsRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/metrics', {
    config: { roles: metricsScrapers },
    schema: {
      tags: ['operations'],
      operationId: 'getMetrics',
      summary: 'Prometheus metrics of this process',
      description:
        "This API process's own metrics: Node.js process metrics (unprefixed, as stock dashboards expect) and request latency. Scrape every replica, with an auditor token as bearer.",
      response: responses({ 200: prometheusText }),
    },
    handler: async (_request, reply) => reply.type(app.metrics.process.contentType).send(await app.metrics.process.metrics()),
  });

  routes.get('/metrics/business', {
    config: { roles: metricsScrapers },
    schema: {
      tags: ['operations'],
      operationId: 'getBusinessMetrics',
      summary: 'Prometheus metrics of the process figures',
      description:
        'Open incidents by severity, open and overdue tasks by kind, approvals and test runs (counters), overdue tests and remediations, patch compliance (0–1), read from PostgreSQL at scrape time. Every replica answers the same: scrape it once, through the load balancer.',
      response: responses({ 200: prometheusText }),
    },
    handler: async (_request, reply) => {
      await app.metrics.refreshBusiness();
      return reply.type(app.metrics.business.contentType).send(await app.metrics.business.metrics());
    },
  });
}
