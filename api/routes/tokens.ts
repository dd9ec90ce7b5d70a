import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { roles } from '../../domain/roles';
import { createToken, listTokens, revokeToken } from '../../db/tokens';
import { principalId, responses, uuidParam } from '../../schemas/common';
import { notFound } from '../../http/problem';
import { administrators } from '../../http/roles';

const tokenRequest = z.strictObject({
  name: z.string().trim().min(1).max(100),
  roles: z.array(z.enum(roles)).min(1),
  principalId: principalId.optional(),
  displayName: z.string().trim().min(1).max(200).optional(),
  email: z.email().optional(),
});

const tokenSummary = z.object({
  id: z.string(),
  name: z.string(),
  principalId: z.string(),
  roles: z.array(z.string()),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

export async function tokenRoutes(app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.post('/tokens', {
    config: { roles: administrators },
    schema: {
      tags: ['tokens'],
      operationId: 'createToken',
      summary: 'Create an API token',
      description: 'Create an API token (its secret is shown once)',
      body: tokenRequest,
      response: responses({ 201: z.object({ id: z.string(), token: z.string(), principalId: z.string(), roles: z.array(z.enum(roles)) }) }),
    },
    handler: async (request, reply) => {
      const created = await createToken(
        app.db,
        { ...request.body, principalId: request.body.principalId ?? principalIdFrom(request.body.name) },
        request.actor.principalId,
      );
      return reply.code(201).send(created);
    },
  });

  routes.get('/tokens', {
    config: { roles: administrators },
    schema: {
      tags: ['tokens'],
      operationId: 'listTokens',
      summary: 'List API tokens',
      description: 'List tokens (never their secrets)',
      response: responses({ 200: z.object({ items: z.array(tokenSummary) }) }),
    },
    handler: async () => {
      const rows = await listTokens(app.db);
      return {
        items: rows.map((row) => ({
          id: row.id,
          name: row.name,
          principalId: row.principal_id,
          roles: row.roles,
          createdAt: row.created_at.toISOString(),
          revokedAt: row.revoked_at?.toISOString() ?? null,
        })),
      };
    },
  });

  routes.delete('/tokens/:id', {
    config: { roles: administrators },
    schema: {
      tags: ['tokens'],
      operationId: 'revokeToken',
      summary: 'Revoke an API token',
      description: 'Revoke a token',
      params: uuidParam,
      response: responses({ 204: z.null() }),
    },
    handler: async (request, reply) => {
      if (!(await revokeToken(app.db, request.params.id, request.actor.principalId))) throw notFound('active token', request.params.id);
      // Other processes hear of it by NOTIFY; this one must refuse the token from the very next request.
      app.credentials.forgetAll();
      return reply.code(204).send(null);
    },
  });
}

/** A principal id derived from a display name: "Alice Smith" → "alice-smith". */
export function principalIdFrom(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9._@-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 100) || 'principal'
  );
}

// `warden token create` checks its flags against the same contract as POST /tokens.
export { tokenRequest };
