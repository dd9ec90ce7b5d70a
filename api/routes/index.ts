import type { FastifyInstance } from 'fastify';
import { auditRoutes } from './audit';
import { codecRoutes } from './codec';
import { diagnosticsRoutes } from './diagnostics';
import { healthRoutes } from './health';
import { openApiRoutes } from './openapi';
import { tokenRoutes } from './tokens';

export async function routes(app: FastifyInstance) {
  await app.register(healthRoutes);
  await app.register(tokenRoutes);
  await app.register(auditRoutes);
  await app.register(codecRoutes);
  await app.register(diagnosticsRoutes);
  await app.register(openApiRoutes);
}
