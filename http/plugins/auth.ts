import fp from 'fastify-plugin';
import type { Actor, Role } from '../../domain/roles';
import { actorForToken, hashToken } from '../../db/tokens';
import { findWebSession, type WebSession } from '../../db/web-sessions';
import { forbidden, Problem } from '../problem';

/** How a caller proves who they are: an API token (`Authorization: Bearer`) or a web inbox session cookie. */
export type Credential = 'bearer' | 'session';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The roles admitted to the route; every route declares them unless it is `public`. */
    roles?: readonly Role[];
    public?: boolean;
    /** The credentials the route accepts; `['bearer']` unless it says otherwise. */
    credentials?: readonly Credential[];
  }
  interface FastifyRequest {
    actor: Actor;
    /** The web session that authenticated the request, when it was a session cookie. */
    webSession: WebSession | undefined;
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
  credentials: readonly Credential[];
  /** Left out of the OpenAPI document. */
  hidden: boolean;
}

export const sessionCookie = 'warden_session';
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

/**
 * Authenticates every non-public route with the credentials it accepts and admits the roles it
 * declares. Refusals are thrown as problems, so each route context's error handler words them:
 * problem+json for the API, a page or a redirect to sign-in for the web inbox.
 */
export const authPlugin = fp(async (app) => {
  app.decorateRequest('actor', undefined as unknown as Actor);
  app.decorateRequest('webSession', undefined);

  app.decorate('routeAccess', [] as RouteAccess[]);

  app.addHook('onRoute', (route) => {
    // CORS preflights carry no credentials by design.
    const isPublic = route.method === 'OPTIONS' || route.config?.public || publicPrefixes.some((prefix) => route.url.startsWith(prefix));
    if (!isPublic && !route.config?.roles?.length) throw new Error(`route ${route.method} ${route.url} declares no roles`);
    for (const method of [route.method].flat()) {
      app.routeAccess.push({
        method,
        url: route.url,
        roles: isPublic ? 'public' : (route.config?.roles ?? []),
        credentials: isPublic ? [] : (route.config?.credentials ?? ['bearer']),
        hidden: Boolean(route.schema?.hide),
      });
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.public || !config.roles || publicPrefixes.some((p) => request.routeOptions.url?.startsWith(p))) return;
    const accepts = config.credentials ?? ['bearer'];
    const token = accepts.includes('bearer') ? bearerToken(request.headers.authorization) : undefined;
    const cookie = accepts.includes('session') && !token ? request.cookies[sessionCookie] : undefined;
    if (cookie) request.webSession = await findWebSession(app.db, cookie);
    const actor = token ? await actorForToken(app.db, token) : request.webSession?.actor;
    if (!actor) {
      if (accepts.includes('bearer')) reply.header('www-authenticate', 'Bearer realm="warden"');
      const detail = token
        ? 'the bearer token is unknown or revoked'
        : cookie
          ? 'the session has ended; sign in again'
          : accepts.includes('bearer')
            ? 'send Authorization: Bearer <token>'
            : 'sign in first';
      throw new Problem(401, 'Unauthorized', detail);
    }
    if (!actor.roles.some((role) => config.roles?.includes(role)))
      throw forbidden(`this needs one of the roles: ${config.roles.join(', ')}`);
    request.actor = actor;
  });
});
