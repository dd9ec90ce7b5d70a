import fp from 'fastify-plugin';
import type { FastifyError, FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { Problem, type FieldError } from '../problem';

const statusTitles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
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
    const keys = (entry.params as { keys?: unknown } | undefined)?.keys;
    // Unknown fields are reported on their parent object; name each one instead.
    if (entry.keyword === 'unrecognized_keys' && Array.isArray(keys)) {
      return keys.map((key) => ({ path: `${base}.${String(key)}`, message: 'unknown field' }));
    }
    return [{ path: base, message: entry.message ?? 'is invalid' }];
  });
}

/** Every error leaves as application/problem+json; a 5xx never shows internals. */
export const errorsPlugin = fp(async (app) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof Problem) return sendProblem(reply, error.status, error.detail, error.errors);
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = validationErrors(error);
      return sendProblem(reply, 400, errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return sendProblem(reply, 500, 'The server could not complete the request; it has been logged.');
    }
    return sendProblem(reply, status, error.message);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, 404, `no route ${request.method} ${request.url.split('?')[0]}`));
});
