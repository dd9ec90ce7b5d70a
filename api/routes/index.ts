import type { FastifyInstance } from 'fastify';
import { auditRoutes } from './audit';
import { configurationItemRoutes } from './cis';
import { codecRoutes } from './codec';
import { diagnosticsRoutes } from './diagnostics';
import { healthRoutes } from './health';
import { openApiRoutes } from './openapi';
import { serviceRoutes } from './services';
import { tokenRoutes } from './tokens';

export async function routes(app: FastifyInstance) {
  await app.register(healthRoutes);
  await app.register(tokenRoutes);
  await app.register(auditRoutes);
  await app.register(codecRoutes);
  await app.register(diagnosticsRoutes);
  await app.register(serviceRoutes);
  await app.register(configurationItemRoutes);
  await app.register(openApiRoutes);
}
