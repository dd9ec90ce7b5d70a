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
  interface FastifyInstance {
    /** Every route registered after this plugin (all but the /docs UI) and whom it admits. */
    routeAccess: RouteAccess[];
  }
}

export interface RouteAccess {
  method: string;
  url: string;
  /** The roles admitted; `public` for routes that need no token. */
  roles: readonly Role[] | 'public';
  /** Left out of the OpenAPI document. */
  hidden: boolean;
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

  app.decorate('routeAccess', [] as RouteAccess[]);

  app.addHook('onRoute', (route) => {
    // CORS preflights carry no credentials by design.
    const isPublic = route.method === 'OPTIONS' || route.config?.public || publicPrefixes.some((prefix) => route.url.startsWith(prefix));
    if (!isPublic && !route.config?.roles?.length) throw new Error(`route ${route.method} ${route.url} declares no roles`);
    for (const method of [route.method].flat()) {
      app.routeAccess.push({ method, url: route.url, roles: isPublic ? 'public' : (route.config?.roles ?? []), hidden: Boolean(route.schema?.hide) });
    }
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
