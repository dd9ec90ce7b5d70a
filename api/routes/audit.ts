import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listAuditEvents, verifyAuditChain } from '../../db/audit';
import { auditVerifyKeys, checkpointMessageOf, listAuditCheckpoints } from '../../db/audit-checkpoints';
import { responses } from '../../schemas/common';
import { auditReaders, checkpointExporters } from '../../http/roles';

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

const verification = z.object({
  valid: z.boolean(),
  checked: z.number().describe('events whose links and hashes were checked before the first problem'),
  firstBrokenId: z.number().optional().describe('the first event whose link or hash is wrong'),
  firstBrokenCheckpointId: z.number().optional().describe('the first checkpoint that does not hold'),
  rewrittenRange: z
    .object({ fromId: z.number(), toId: z.number() })
    .optional()
    .describe('when a checkpoint no longer matches: the events one of which was rewritten'),
  reason: z.string().optional(),
  checkpoints: z.number().describe('checkpoints whose signatures were verified'),
  unanchored: z.number().describe('events after the last checkpoint, which no signature covers yet'),
  lastCheckpoint: z
    .object({ id: z.number(), eventId: z.number(), signedAt: z.string() })
    .nullable()
    .describe('the newest checkpoint verified; much older than the interval means signing stopped or checkpoints were deleted'),
  pending: z
    .number()
    .describe(
      'events committed but not yet on the chain once it was checked (verification links what is pending first): those committed meanwhile, or ones no link could chain',
    ),
});

const publicKey = z.object({
  keyId: z.string(),
  algorithm: z.literal('Ed25519'),
  publicKey: z.string().describe('base64 of the raw 32-byte public key'),
});

const checkpoint = z.object({
  id: z.number(),
  eventId: z.number(),
  eventHash: z.string(),
  prevEventId: z.number(),
  signedAt: z.string(),
  keyId: z.string(),
  signature: z.string().describe('base64 Ed25519 signature of `message` (UTF-8)'),
  message: z.string().describe('the exact text signed'),
});

export async function auditRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // The public half of WARDEN_AUDIT_SIGNING_KEY when this process holds it, and WARDEN_AUDIT_VERIFY_KEY.
  const keys = auditVerifyKeys(app.config.WARDEN_AUDIT_SIGNING_KEY, app.config.WARDEN_AUDIT_VERIFY_KEY);

  routes.get('/audit', {
    config: { roles: auditReaders },
    schema: {
      tags: ['audit'],
      operationId: 'listAuditEvents',
      summary: 'Read the audit trail',
      description: 'Read the audit trail, oldest first',
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
      operationId: 'verifyAuditChain',
      summary: 'Verify the audit chain',
      description: 'Recompute the hash chain, check every signed checkpoint against it, and name the first broken row or checkpoint',
      response: responses({ 200: verification }),
    },
    handler: async () => {
      const { lastCheckpoint, ...verified } = await verifyAuditChain(app.db, { keys });
      return { ...verified, lastCheckpoint: lastCheckpoint && { ...lastCheckpoint, signedAt: lastCheckpoint.signedAt.toISOString() } };
    },
  });

  routes.get('/audit/checkpoints', {
    config: { roles: checkpointExporters },
    schema: {
      tags: ['audit'],
      operationId: 'listAuditCheckpoints',
      summary: 'List signed audit checkpoints',
      description:
        'Signed checkpoints of the audit chain, oldest first, with the keys that verify them: copy them elsewhere to anchor the chain',
      querystring: z.strictObject({
        limit: z.coerce.number().int().min(1).max(1000).default(100),
        cursor: z.coerce.number().int().min(0).optional().describe('the nextCursor of the previous page'),
      }),
      response: responses({
        200: z.object({ publicKeys: z.array(publicKey), items: z.array(checkpoint), nextCursor: z.number().nullable() }),
      }),
    },
    handler: async (request) => {
      const { limit, cursor } = request.query;
      const rows = await listAuditCheckpoints(app.db, { afterId: cursor, limit });
      const items = rows.slice(0, limit);
      return {
        publicKeys: keys.map(({ keyId, publicKey }) => ({ keyId, algorithm: 'Ed25519' as const, publicKey })),
        items: items.map((row) => ({
          id: row.id,
          eventId: row.event_id,
          eventHash: row.event_hash,
          prevEventId: row.prev_event_id,
          signedAt: row.signed_at.toISOString(),
          keyId: row.key_id,
          signature: row.signature,
          message: checkpointMessageOf(row),
        })),
        nextCursor: rows.length > limit ? (items[items.length - 1]?.id ?? null) : null,
      };
    },
  });
}
