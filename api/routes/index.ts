import type { FastifyInstance } from 'fastify';
import { accessRoutes } from './access';
import { accessReviewRoutes } from './access-reviews';
import { alertRoutes } from './alerts';
import { auditRoutes } from './audit';
import { configurationItemRoutes } from './cis';
import { changeRoutes } from './changes';
import { codecRoutes } from './codec';
import { diagnosticsRoutes } from './diagnostics';
import { healthRoutes } from './health';
import { incidentRoutes } from './incidents';
import { openApiRoutes } from './openapi';
import { playbookRoutes } from './playbooks';
import { taskRoutes } from './tasks';
import { serviceRoutes } from './services';
import { tokenRoutes } from './tokens';

export async function routes(app: FastifyInstance) {
  await app.register(healthRoutes);
  await app.register(tokenRoutes);
  await app.register(auditRoutes);
  await app.register(codecRoutes);
  await app.register(diagnosticsRoutes);
  await app.register(openApiRoutes);
  await app.register(taskRoutes);
  await app.register(incidentRoutes);
  await app.register(alertRoutes);
  await app.register(playbookRoutes);
  await app.register(serviceRoutes);
  await app.register(configurationItemRoutes);
  await app.register(accessRoutes);
  await app.register(accessReviewRoutes);
  await app.register(changeRoutes);
}
