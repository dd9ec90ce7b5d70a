import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';

/** The OpenAPI document at a stable address for client generators; /docs shows the same document. */
export async function openApiRoutes(app: FastifyInstance) {
  app.withTypeProvider<ZodTypeProvider>().get('/openapi.json', {
    config: { public: true },
    schema: { hide: true, response: { 200: z.record(z.string(), z.unknown()) } },
    handler: async () => app.swagger() as unknown as Record<string, unknown>,
  });
}
