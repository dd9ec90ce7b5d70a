import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Actor, Role } from '../../domain/roles';
import { hashToken } from '../../db/tokens';
import type { WebSession } from '../../db/web-sessions';
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
  /** Problems the route answers beyond what its declaration implies (`alsoAnswers`, http/openapi.ts). */
  alsoAnswers: readonly number[];
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
 * Whose budget a request spends: an authenticated token's or session's own, and otherwise (no
 * credentials, unknown or revoked ones, public routes) the client address's, so inventing tokens
 * never buys a fresh budget. The address is the connection's unless a trusted proxy forwarded it.
 */
export function rateLimitKey(request: FastifyRequest): string {
  if (request.actor) {
    const token = tokenKey(request.headers.authorization);
    return token ? `token:${token}` : `principal:${request.actor.principalId}`;
  }
  return `address:${request.ip}`;
}

export interface AuthOptions {
  /** The rate limiter, run once the caller is known and before anything is refused (401, 403). */
  limit?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

/**
 * Authenticates every non-public route with the credentials it accepts and admits the roles it
 * declares. Refusals are thrown as problems, so each route context's error handler words them:
 * problem+json for the API, a page or a redirect to sign-in for the web inbox.
 */
export const authPlugin = fp<AuthOptions>(async (app, options) => {
  const limit = options.limit ?? (async () => {});
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
        alsoAnswers: route.config?.alsoAnswers ?? [],
      });
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.public || !config.roles || publicPrefixes.some((p) => request.routeOptions.url?.startsWith(p))) {
      await limit(request, reply);
      return;
    }
    const accepts = config.credentials ?? ['bearer'];
    const token = accepts.includes('bearer') ? bearerToken(request.headers.authorization) : undefined;
    const cookie = accepts.includes('session') && !token ? request.cookies[sessionCookie] : undefined;
    if (cookie) request.webSession = await app.credentials.findWebSession(cookie);
    const actor = token ? await app.credentials.actorForToken(token) : request.webSession?.actor;
    // Limited before it is refused: failed authentication spends the client address's budget.
    if (actor) request.actor = actor;
    await limit(request, reply);
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
  });
});
