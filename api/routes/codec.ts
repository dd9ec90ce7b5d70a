import cors from '@fastify/cors';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Payload } from '@temporalio/common';
import { recordAudit } from '../../db/audit';
import { responses } from '../../schemas/common';
import { PayloadDecryptionError } from '../../temporal/codec';
import { Problem } from '../../http/problem';
import { payloadReaders, securityManagement } from '../../http/roles';

// Temporal's codec-server protocol: payloads as JSON with base64 metadata values and data.
const jsonPayload = z.object({ metadata: z.record(z.string(), z.string()).default({}), data: z.string().default('') });
const payloadsBody = z.object({ payloads: z.array(jsonPayload).max(1000) });
type JsonPayload = z.infer<typeof jsonPayload>;

const fromJson = (payload: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(payload.data, 'base64'),
});
const toJson = (payload: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});

/** The codec endpoint the Temporal UI and CLI call to show decrypted payloads to permitted people. */
export async function codecRoutes(app: FastifyInstance) {
  const origin = app.config.WARDEN_TEMPORAL_UI_ORIGIN;
  await app.register(cors, {
    origin: origin ? [origin] : false,
    credentials: true,
    methods: ['POST'],
    allowedHeaders: ['authorization', 'content-type', 'x-namespace'],
  });
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/codec/decode', {
    // The Temporal UI on another loopback port is same-site, so it may send the inbox's session
    // cookie. Cross-origin JSON needs a CORS preflight only the configured UI origin passes.
    config: { roles: payloadReaders, credentials: ['bearer', 'session'] },
    schema: {
      tags: ['operations'],
      operationId: 'decodePayloads',
      summary: 'Decrypt Temporal payloads',
      description: 'Decrypt Temporal payloads (codec server protocol)',
      body: payloadsBody,
      response: responses({ 200: payloadsBody }),
    },
    handler: async (request) => {
      const decoded = await app.codec.decode(request.body.payloads.map(fromJson)).catch((error: unknown) => {
        if (error instanceof PayloadDecryptionError) throw new Problem(400, 'Bad Request', `cannot decode: ${error.message}`);
        throw error;
      });
      // Reading decrypted workflow data is itself a disclosure worth recording.
      await recordAudit(app.db, {
        actor: request.actor.principalId,
        action: 'codec.decoded',
        subjectType: 'temporal-namespace',
        subjectId: String(request.headers['x-namespace'] ?? app.config.TEMPORAL_NAMESPACE ?? 'default'),
        details: { payloads: decoded.length },
      });
      return { payloads: decoded.map(toJson) };
    },
  });

  routes.post('/codec/encode', {
    config: { roles: securityManagement },
    schema: {
      tags: ['operations'],
      operationId: 'encodePayloads',
      summary: 'Encrypt Temporal payloads',
      description: 'Encrypt Temporal payloads (codec server protocol)',
      body: payloadsBody,
      response: responses({ 200: payloadsBody }),
    },
    handler: async (request) => ({ payloads: (await app.codec.encode(request.body.payloads.map(fromJson))).map(toJson) }),
  });
}
