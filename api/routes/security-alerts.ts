import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { responses, uuidParam } from '../../schemas/common';
import { securityAlertAccepted, securityAlertBody, securityAlertView } from '../../schemas/security-alerts';
import { startOnce } from '../../temporal/start';
import { findSecurityAlert, unknownAlertTargets } from '../../db/security-alerts';
import {
  alertHasRecipients,
  makeSecurityAlertWorkflowId,
  securityAlertWorkflowType,
  type SecurityAlertInput,
} from '../../domain/security-alert';
import { idempotencyKey, idempotent } from '../idempotency';
import { invalid, notFound } from '../../http/problem';
import { everyone, securityManagement } from '../../http/roles';

/** One error per unknown id, at its index in the request. */
function unknownIdErrors(ids: string[], unknown: string[], path: string, what: string) {
  return ids.flatMap((id, index) => (unknown.includes(id) ? [{ path: `${path}.${index}`, message: `no ${what} ${id}` }] : []));
}

export async function securityAlertRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/security-alerts', {
    config: { roles: securityManagement },
    schema: {
      tags: ['security-alerts'],
      operationId: 'broadcastSecurityAlert',
      summary: 'Broadcast a security alert',
      description:
        'Broadcast a security alert to the owners of the affected CIs and services and the audience roles; each acknowledges through a task (send Idempotency-Key to retry safely)',
      body: securityAlertBody,
      headers: z.object({ 'idempotency-key': z.string().max(200).optional() }),
      response: responses({ 202: securityAlertAccepted }),
    },
    handler: async (request, reply) => {
      const body = request.body;
      const unknown = await unknownAlertTargets(app.db, body);
      const errors = [
        ...unknownIdErrors(body.affectedCis, unknown.cis, 'body.affectedCis', 'configuration item'),
        ...unknownIdErrors(body.affectedServices, unknown.services, 'body.affectedServices', 'service'),
      ];
      if (errors.length) throw invalid(errors);
      if (!alertHasRecipients(body)) {
        throw invalid([
          { path: 'body.audience', message: 'an alert needs someone to tell: audience roles, affected CIs or affected services' },
        ]);
      }
      const work = await idempotent(
        app.db,
        { scope: 'security-alerts', principalId: request.actor.principalId, key: idempotencyKey(request) },
        () => {
          const alertId = randomUUID();
          const input: SecurityAlertInput = { alertId, ...body, raisedBy: request.actor.principalId };
          return { resourceId: alertId, request: input };
        },
      );
      const workflowId = makeSecurityAlertWorkflowId(work.resourceId);
      await startOnce(app.temporal.client, securityAlertWorkflowType, {
        workflowId,
        taskQueue: app.temporal.taskQueue,
        args: [work.request],
      });
      return reply.code(202).send({ id: work.resourceId, workflowId });
    },
  });

  routes.get('/security-alerts/:id', {
    config: { roles: everyone },
    schema: {
      tags: ['security-alerts'],
      operationId: 'getSecurityAlert',
      summary: 'Read a security alert',
      description: 'One security alert: who has acknowledged it and who has not yet',
      params: uuidParam,
      response: responses({ 200: securityAlertView }),
    },
    handler: async (request) => {
      const found = await findSecurityAlert(app.db, request.params.id);
      if (!found) throw notFound('security alert', request.params.id);
      const { alert, recipients } = found;
      const views = recipients.map((r) => ({
        recipient: r.recipient,
        reason: r.reason,
        acknowledged: r.acknowledged_at !== null,
        acknowledgedBy: r.acknowledged_by,
        acknowledgedAt: r.acknowledged_at?.toISOString() ?? null,
        taskId: r.task_id,
      }));
      return {
        id: alert.id,
        workflowId: alert.workflow_id,
        title: alert.title,
        threat: alert.threat,
        actions: alert.actions,
        affectedServices: alert.affected_services,
        affectedCis: alert.affected_cis,
        audience: alert.audience,
        links: alert.links,
        raisedBy: alert.raised_by,
        createdAt: alert.created_at.toISOString(),
        acknowledged: views.filter((v) => v.acknowledged),
        pending: views.filter((v) => !v.acknowledged),
      };
    },
  });
}
