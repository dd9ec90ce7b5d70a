import fp from 'fastify-plugin';
import type { Actor, Role } from '../../domain/roles';
import { actorForToken, hashToken } from '../../db/tokens';
import { sendProblem } from './errors';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The roles admitted to the route; every route declares them unless it is `public`. */
    roles?: readonly Role[];
    public?: boolean;
  }
  interface FastifyRequest {
    actor: Actor;
  }
}

const publicPrefixes = ['/docs'];

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** Rate limits and logs key on the token's hash, never the token itself. */
export function tokenKey(header: string | undefined): string | undefined {
  const token = bearerToken(header);
  return token ? hashToken(token).slice(0, 16) : undefined;
}

export const authPlugin = fp(async (app) => {
  app.decorateRequest('actor', undefined as unknown as Actor);

  app.addHook('onRoute', (route) => {
    // CORS preflights carry no credentials by design.
    if (route.method === 'OPTIONS' || route.config?.public || publicPrefixes.some((prefix) => route.url.startsWith(prefix))) return;
    if (!route.config?.roles?.length) throw new Error(`route ${route.method} ${route.url} declares no roles`);
  });

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.public || !config.roles || publicPrefixes.some((p) => request.routeOptions.url?.startsWith(p))) return;
    const token = bearerToken(request.headers.authorization);
    const actor = token ? await actorForToken(app.db, token) : undefined;
    if (!actor) {
      reply.header('www-authenticate', 'Bearer realm="warden"');
      return sendProblem(reply, 401, token ? 'the bearer token is unknown or revoked' : 'send Authorization: Bearer <token>');
    }
    if (!actor.roles.some((role) => config.roles?.includes(role))) {
      return sendProblem(reply, 403, `this needs one of the roles: ${config.roles.join(', ')}`);
    }
    request.actor = actor;
  });
});
