import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { Refusal, type RefusalReason } from '../../domain/refusal';
import { isDatabaseUnavailable } from '../../db/pg-errors';
import { isTemporalUnavailable } from '../../temporal/connection';
import { Problem, type FieldError } from '../problem';

const statusTitles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

export function sendProblem(reply: FastifyReply, status: number, detail: string, errors?: FieldError[]) {
  const title = statusTitles[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status, detail, ...(errors ? { errors } : {}) });
}

function validationErrors(error: FastifyError): FieldError[] {
  const context = error.validationContext ?? 'body';
  return (error.validation ?? []).flatMap((entry) => {
    const base = [context, ...entry.instancePath.split('/').filter(Boolean)].join('.');
    // fastify-type-provider-zod puts the zod issue code in `keyword` and the rest of it in `params`.
    const unknownKeys = (entry.params as { keys?: string[] } | undefined)?.keys;
    // Unknown fields are reported on their parent object; name each one instead.
    if (entry.keyword === 'unrecognized_keys' && unknownKeys?.length) {
      return unknownKeys.map((key) => ({ path: `${base}.${key}`, message: 'unknown field' }));
    }
    return [{ path: base, message: entry.message ?? 'is invalid' }];
  });
}

const refusalStatus: Record<RefusalReason, number> = { invalid: 400, forbidden: 403, not_found: 404, conflict: 409 };

function refusalProblem(refusal: Refusal): Problem {
  const status = refusalStatus[refusal.reason];
  const errors = refusal.field ? [{ path: `body.${refusal.field}`, message: refusal.message }] : undefined;
  return new Problem(status, statusTitles[status] ?? 'Error', refusal.message, errors);
}

/**
 * Errors Fastify answers before any route or hook runs (a path parameter longer than the router
 * allows: 414; a path that is not valid URL encoding: 400), as problem+json like every other. Given to
 * Fastify's `frameworkErrors` option, since the error handler never sees them.
 */
export function frameworkErrors(error: FastifyError, _request: unknown, reply: FastifyReply) {
  const status = error.statusCode ?? 500;
  if (error.code === 'FST_ERR_BAD_URL') {
    return sendProblem(reply, 400, 'the path is not valid percent-encoded UTF-8', [
      { path: 'params', message: 'is not valid percent-encoded UTF-8' },
    ]);
  }
  const detail =
    status === 414
      ? 'a path segment is longer than the server accepts'
      : status < 500
        ? 'the request path is not valid'
        : 'The server could not complete the request; it has been logged.';
  return sendProblem(reply, status, detail);
}

/**
 * What a client should wait before retrying while PostgreSQL or Temporal is away: a restart of
 * either takes a few seconds, and shorter waits only add load to one that is coming back.
 */
export const retryAfterSeconds = 5;

/** Which dependency an error says is unreachable, restarting or too slow to answer, if any. */
export function unavailableDependency(error: unknown): 'PostgreSQL' | 'Temporal' | undefined {
  if (isDatabaseUnavailable(error)) return 'PostgreSQL';
  if (isTemporalUnavailable(error)) return 'Temporal';
  return undefined;
}

/** Every error leaves as application/problem+json; a 5xx never shows internals. */
export const errorsPlugin = fp(async (app) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = error instanceof Refusal ? refusalProblem(error) : error;
    if (problem instanceof Problem) {
      if (problem.headers) reply.headers(problem.headers);
      return sendProblem(reply, problem.status, problem.detail, problem.errors);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = validationErrors(error);
      return sendProblem(reply, 400, errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      const unavailable = unavailableDependency(error);
      if (unavailable) {
        request.log.warn({ err: error, dependency: unavailable }, 'dependency unavailable');
        reply.header('retry-after', String(retryAfterSeconds));
        return sendProblem(reply, 503, `${unavailable} is unavailable at the moment; retry after ${retryAfterSeconds} s.`);
      }
      request.log.error({ err: error }, 'request failed');
      return sendProblem(reply, 500, 'The server could not complete the request; it has been logged.');
    }
    return sendProblem(reply, status, error.message);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, 404, `no route ${request.method} ${request.url.split('?')[0]}`));
});
