import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listAuditEvents, verifyAuditChain } from '../../db/audit';
import { responses } from '../../schemas/common';
import { auditReaders } from '../../http/roles';

const auditEvent = z.object({
  id: z.number(),
  occurredAt: z.string(),
  actor: z.string(),
  action: z.string(),
  subjectType: z.string(),
  subjectId: z.string(),
  details: z.record(z.string(), z.unknown()),
  hash: z.string(),
});

export async function auditRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get('/audit', {
    config: { roles: auditReaders },
    schema: {
      tags: ['audit'],
      summary: 'Read the audit trail, oldest first',
      querystring: z.strictObject({
        subjectType: z.string().max(100).optional(),
        subjectId: z.string().max(200).optional(),
        action: z.string().max(100).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        cursor: z.coerce.number().int().min(0).optional().describe('the nextCursor of the previous page'),
      }),
      response: responses({ 200: z.object({ items: z.array(auditEvent), nextCursor: z.number().nullable() }) }),
    },
    handler: async (request) => {
      const { subjectType, subjectId, action, limit, cursor } = request.query;
      const rows = await listAuditEvents(app.db, { subjectType, subjectId, action, afterId: cursor, limit });
      const items = rows.slice(0, limit);
      return {
        items: items.map((row) => ({
          id: row.id,
          occurredAt: row.occurred_at.toISOString(),
          actor: row.actor,
          action: row.action,
          subjectType: row.subject_type,
          subjectId: row.subject_id,
          details: row.details,
          hash: row.hash,
        })),
        nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null,
      };
    },
  });

  routes.get('/audit/verify', {
    config: { roles: auditReaders },
    schema: {
      tags: ['audit'],
      summary: 'Recompute the hash chain and name the first broken row',
      response: responses({
        200: z.object({ valid: z.boolean(), checked: z.number(), firstBrokenId: z.number().optional(), reason: z.string().optional() }),
      }),
    },
    handler: async () => verifyAuditChain(app.db),
  });
}
