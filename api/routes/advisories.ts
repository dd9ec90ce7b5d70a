import { z } from 'zod';
import { iso } from '../views';
import { updateRefusal } from '../../http/update-refusal';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { findAdvisory, listAdvisories, listRemediations, remediationCounts, upsertAdvisory } from '../../db/advisories';
import type { Advisory } from '../../db/database';
import { responses } from '../../schemas/common';
import {
  advisoryAccepted,
  advisoryDetail,
  advisoryDocument,
  advisoryListQuery,
  advisoryParam,
  advisoryPostQuery,
  advisorySummary,
  readAdvisory,
} from '../../schemas/advisories';
import { startOnce } from '../../temporal/start';
import { advisoryResponseWorkflowType, makeAdvisoryWorkflowId } from '../../domain/advisory';
import { closeAdvisoryUpdate } from '../../workflows/advisory/definitions';
import { requestRematch, withdraw } from '../advisory-rematch';
import { conflict, invalid, notFound } from '../../http/problem';
import { advisoryIntake, everyone, securityManagement } from '../../http/roles';

function toSummary(advisory: Advisory, counts: Record<string, number> = {}) {
  return {
    id: advisory.id,
    workflowId: advisory.workflow_id,
    format: advisory.format,
    title: advisory.title,
    supplier: advisory.supplier,
    aliases: advisory.aliases,
    cvssScore: advisory.cvss_score,
    exploited: advisory.exploited,
    status: advisory.status,
    withdrawnAt: iso(advisory.withdrawn_at),
    revision: advisory.revision,
    alertId: advisory.alert_id,
    remediations: counts,
    createdAt: advisory.created_at.toISOString(),
    updatedAt: advisory.updated_at.toISOString(),
  };
}

export async function advisoryRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/advisories', {
    config: { roles: advisoryIntake },
    schema: {
      tags: ['advisories'],
      operationId: 'receiveAdvisory',
      summary: 'Receive a security advisory',
      description:
        'Receive one security advisory (generic JSON, OSV or CSAF 2.0; OSV and CSAF 2.0 checked against their official JSON schemas); re-posting the same id revises it and the running response matches again',
      querystring: advisoryPostQuery,
      body: advisoryDocument,
      response: responses({ 202: advisoryAccepted }),
    },
    handler: async (request, reply) => {
      const parsed = await readAdvisory(request.body, request.query.format);
      if (!parsed.ok) throw invalid(parsed.errors);
      const { content, format } = parsed;
      const existing = await findAdvisory(app.db, content.id);
      if (existing?.status === 'closed') throw conflict(`advisory ${content.id} is closed; publish the revision under a new id`);
      // A feed re-sending a withdrawn record is recorded again; one reviving it is a new advisory.
      if (existing?.status === 'withdrawn' && !content.withdrawn)
        throw conflict(`advisory ${content.id} was withdrawn by its source; publish a new record under a new id`);
      const workflowId = makeAdvisoryWorkflowId(content.id);
      const actor = request.actor.principalId;
      const stored = await upsertAdvisory(app.db, { content, format, raw: request.body, workflowId, actor });
      const accepted = { id: content.id, workflowId, format, revision: stored.revision, created: stored.created };
      // Withdrawn before any response started: nothing to match, nothing to start.
      if (stored.status === 'withdrawn') return reply.code(202).send(accepted);
      if (content.withdrawn) {
        await withdraw(app.temporal.client, workflowId, { actor, withdrawnAt: content.withdrawn });
        return reply.code(202).send(accepted);
      }
      const { started } = await startOnce(app.temporal.client, advisoryResponseWorkflowType, {
        workflowId,
        taskQueue: app.temporal.taskQueue,
        args: [{ advisoryId: content.id }],
      });
      if (!started) await requestRematch(app.temporal.client, workflowId, `revision ${stored.revision}`);
      return reply.code(202).send(accepted);
    },
  });

  routes.get('/advisories', {
    config: { roles: everyone },
    schema: {
      tags: ['advisories'],
      operationId: 'listAdvisories',
      summary: 'List advisories',
      description: 'Advisories, newest first, with remediation counts per status',
      querystring: advisoryListQuery,
      response: responses({ 200: z.object({ items: z.array(advisorySummary) }) }),
    },
    handler: async (request) => {
      const rows = await listAdvisories(app.db, request.query);
      const counts = await remediationCounts(
        app.db,
        rows.map((r) => r.id),
      );
      return { items: rows.map((row) => toSummary(row, counts.get(row.id))) };
    },
  });

  routes.get('/advisories/:id', {
    config: { roles: everyone },
    schema: {
      tags: ['advisories'],
      operationId: 'getAdvisory',
      summary: 'Read an advisory',
      description: "One advisory: what it affects, and every CI's remediation state",
      params: advisoryParam,
      response: responses({ 200: advisoryDetail }),
    },
    handler: async (request) => {
      const advisory = await findAdvisory(app.db, request.params.id);
      if (!advisory) throw notFound('advisory', request.params.id);
      const remediations = await listRemediations(app.db, advisory.id);
      // Counted from the rows shown, so the two agree: two reads side by side could straddle a write.
      const counts: Record<string, number> = {};
      for (const { status } of remediations) counts[status] = (counts[status] ?? 0) + 1;
      return {
        ...toSummary(advisory, counts),
        affected: advisory.affected,
        cvssVector: advisory.cvss_vector,
        preventiveMeasures: advisory.preventive_measures,
        published: iso(advisory.published_at),
        remediationDetails: remediations.map((r) => ({
          ciId: r.ci_id,
          ciName: r.ci_name,
          serviceId: r.service_id,
          owner: r.owner,
          product: r.product,
          installedVersion: r.installed_version,
          status: r.status,
          deadline: r.deadline,
          dueAt: r.due_at.toISOString(),
          overdue: r.status === 'open' && r.due_at.getTime() < Date.now(),
          escalations: r.escalations,
          resolution: r.resolution,
          exceptionExpiresAt: iso(r.exception_expires_at),
          resolvedAt: iso(r.resolved_at),
          taskId: r.task_id,
        })),
      };
    },
  });

  routes.post('/advisories/:id/close', {
    config: { roles: securityManagement },
    schema: {
      tags: ['advisories'],
      operationId: 'closeAdvisory',
      summary: 'Close an advisory',
      description: 'Close an advisory: refused (409) while any remediation is still running',
      params: advisoryParam,
      body: z.strictObject({ reason: z.string().trim().min(1).max(2000) }),
      response: responses({ 200: z.object({ id: z.string(), status: z.literal('closed') }) }),
    },
    handler: async (request) => {
      const advisory = await findAdvisory(app.db, request.params.id);
      if (!advisory) throw notFound('advisory', request.params.id);
      try {
        await app.temporal.client.workflow
          .getHandle(advisory.workflow_id)
          .executeUpdate(closeAdvisoryUpdate, { args: [{ actor: request.actor.principalId, reason: request.body.reason }] });
      } catch (error) {
        throw updateRefusal(error, 'the advisory is already closed')?.problem ?? error;
      }
      return { id: advisory.id, status: 'closed' as const };
    },
  });
}
