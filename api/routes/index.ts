import type { FastifyInstance } from 'fastify';
import { alertRoutes } from './alerts';
import { auditRoutes } from './audit';
import { changeRoutes } from './changes';
import { codecRoutes } from './codec';
import { diagnosticsRoutes } from './diagnostics';
import { healthRoutes } from './health';
import { incidentRoutes } from './incidents';
import { playbookRoutes } from './playbooks';
import { taskRoutes } from './tasks';
import { tokenRoutes } from './tokens';

export async function routes(app: FastifyInstance) {
  await app.register(healthRoutes);
  await app.register(tokenRoutes);
  await app.register(auditRoutes);
  await app.register(codecRoutes);
  await app.register(diagnosticsRoutes);
  await app.register(taskRoutes);
  await app.register(incidentRoutes);
  await app.register(alertRoutes);
  await app.register(playbookRoutes);
  await app.register(changeRoutes);
}
