import { randomUUID } from 'node:crypto';
import type { Server } from '../../server';
import type { RouteAccess } from '../../http/plugins/auth';

/**
 * The routes a policy walk covers: every route the app registered, read from the app itself so a
 * route added later is covered without touching the tests. Left out: the Swagger UI under /docs,
 * CORS preflights, and the HEAD twins Fastify adds for every GET.
 */
export function walkableRoutes(app: Server): RouteAccess[] {
  return app.routeAccess.filter((route) => !route.url.startsWith('/docs') && route.method !== 'OPTIONS' && route.method !== 'HEAD');
}

/** The route's path with a fresh random uuid in every parameter. */
export function concretePath(url: string): string {
  return url.replace(/:[A-Za-z]\w*/g, () => randomUUID());
}
