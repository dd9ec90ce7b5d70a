import type { FastifyInstance } from 'fastify';
import { advisoryRoutes } from './advisories';
import { alertRoutes } from './alerts';
import { ciComponentRoutes } from './ci-components';
import { kpiRoutes } from './kpis';
import { metricsRoutes } from './metrics';
import { auditRoutes } from './audit';
import { codecRoutes } from './codec';
import { diagnosticsRoutes } from './diagnostics';
import { healthRoutes } from './health';
import { incidentRoutes } from './incidents';
import { notificationRoutes } from './notifications';
import { openApiRoutes } from './openapi';
import { playbookRoutes } from './playbooks';
import { securityAlertRoutes } from './security-alerts';
import { taskRoutes } from './tasks';
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
  await app.register(notificationRoutes);
  await app.register(advisoryRoutes);
  await app.register(ciComponentRoutes);
  await app.register(kpiRoutes);
  await app.register(securityAlertRoutes);
  await app.register(metricsRoutes);
}
