import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { findDiagnosticPing } from '../../db/diagnostics';
import { responses, uuidParam } from '../../schemas/common';
import { startOnce } from '../../temporal/start';
import { diagnosticPingWorkflowType, makeDiagnosticPingWorkflowId, type DiagnosticPingInput } from '../../domain/diagnostics';
import { notFound } from '../../http/problem';
import { administrators } from '../../http/roles';

const ping = z.object({
  id: z.string(),
  workflowId: z.string(),
  requestedBy: z.string(),
  workerIdentity: z.string(),
  completedAt: z.string(),
});

export async function diagnosticsRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  const readPing = async (id: string) => {
    const row = await findDiagnosticPing(app.db, id);
    if (!row) throw notFound('diagnostic ping', id);
    return {
      id: row.id,
      workflowId: row.workflow_id,
      requestedBy: row.requested_by,
      workerIdentity: row.worker_identity,
      completedAt: row.completed_at.toISOString(),
    };
  };

  routes.post('/diagnostics/pings', {
    config: { roles: administrators },
    schema: {
      tags: ['operations'],
      operationId: 'createDiagnosticPing',
      summary: 'Run a diagnostic ping',
      description: 'Run a ping through Temporal, a worker and PostgreSQL, and read it back',
      response: responses({ 201: ping }),
    },
    handler: async (request, reply) => {
      const pingId = randomUUID();
      const input: DiagnosticPingInput = { pingId, requestedBy: request.actor.principalId };
      const { handle } = await startOnce(app.temporal.client, diagnosticPingWorkflowType, {
        workflowId: makeDiagnosticPingWorkflowId(pingId),
        taskQueue: app.temporal.taskQueue,
        args: [input],
        // A ping that no worker picks up within this time means no worker is running.
        workflowExecutionTimeout: '30s',
      });
      await handle.result();
      return reply.code(201).send(await readPing(pingId));
    },
  });

  routes.get('/diagnostics/pings/:id', {
    config: { roles: administrators },
    schema: {
      tags: ['operations'],
      operationId: 'getDiagnosticPing',
      summary: 'Read a diagnostic ping',
      description: 'Read a diagnostic ping',
      params: uuidParam,
      response: responses({ 200: ping }),
    },
    handler: async (request) => readPing(request.params.id),
  });
}
