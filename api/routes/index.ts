import type { FastifyInstance } from 'fastify';
import { alertRoutes } from './alerts';
import { auditRoutes } from './audit';
import { configurationItemRoutes } from './cis';
import { codecRoutes } from './codec';
import { diagnosticsRoutes } from './diagnostics';
import { healthRoutes } from './health';
import { improvementActionRoutes } from './improvement-actions';
import { incidentRoutes } from './incidents';
import { openApiRoutes } from './openapi';
import { playbookRoutes } from './playbooks';
import { policyRoutes } from './policies';
import { reviewRoutes } from './reviews';
import { riskRoutes } from './risks';
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
  await app.register(riskRoutes);
  await app.register(policyRoutes);
  await app.register(reviewRoutes);
  await app.register(improvementActionRoutes);
}
