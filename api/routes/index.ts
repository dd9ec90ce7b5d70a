import type { FastifyInstance } from 'fastify';
import { accessRoutes } from './access';
import { accessReviewRoutes } from './access-reviews';
import { alertRoutes } from './alerts';
import { auditRoutes } from './audit';
import { configurationItemRoutes } from './cis';
import { codecRoutes } from './codec';
import { controlRoutes } from './controls';
import { diagnosticsRoutes } from './diagnostics';
import { healthRoutes } from './health';
import { incidentRoutes } from './incidents';
import { openApiRoutes } from './openapi';
import { playbookRoutes } from './playbooks';
import { taskRoutes } from './tasks';
import { serviceRoutes } from './services';
import { testRunRoutes } from './test-runs';
import { testScheduleRoutes } from './test-schedules';
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
  await app.register(controlRoutes);
  await app.register(testScheduleRoutes);
  await app.register(testRunRoutes);
}
