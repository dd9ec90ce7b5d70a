import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { runWithRequestId } from '../../temporal/request-id';

/**
 * What an incoming X-Request-Id may be to be honoured: a caller's id travels into logs, so only
 * short, printable, log-safe ids are kept (UUIDs, ULIDs, a proxy's hex or base64 ids); anything
 * else is replaced by a fresh UUID rather than refused, since the id is a convenience, not input.
 */
const acceptableRequestId = /^[A-Za-z0-9._:+/=-]{1,128}$/;

/** Fastify's `genReqId`: the caller's X-Request-Id when it is acceptable, otherwise a UUID. */
export function requestIdFor(request: { headers: FastifyRequest['headers'] }): string {
  const offered = request.headers['x-request-id'];
  return typeof offered === 'string' && acceptableRequestId.test(offered) ? offered : randomUUID();
}

/**
 * Echoes the request id in X-Request-Id on every response, and logs one line per request when it
 * completes: id, method, route, status, duration and the principal who made it (once the auth
 * plugin knows them), so a log search by request id or by person finds the whole request, and the
 * activities it caused, whose lines carry the same `reqId`.
 */
export const requestIdPlugin = fp(async (app) => {
  // Hooks here and in the metrics and input-boundary plugins take `done` rather than being async:
  // an async hook costs every request a promise, tracked by async_hooks for the request id's scope.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // The handler runs in the request's scope: the workflows it starts or signals carry its id in their
  // headers, and hand it to their activities (temporal/request-id.ts). The last hook before the
  // handler, as body parsing runs in the socket's own async context.
  app.addHook('preHandler', (request, _reply, done) => runWithRequestId(request.id, done));
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        url: request.url.split('?')[0],
        route: request.routeOptions.url,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        principal: request.actor?.principalId,
      },
      'request completed',
    );
    done();
  });
});
