import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { findInputFault } from '../../domain/input';
import { invalid } from '../problem';

/**
 * The one input boundary of the API and the inbox, before any route's schema or handler sees a
 * request: every string in the params, the query and the body (JSON, forms, CSV) must be storable
 * (no NUL, no lone surrogate), no object key may reach a prototype, and nothing nests deeper than
 * domain/input.ts allows. A fault is a 400 problem naming the field (`body.attributes.a.b`,
 * `querystring.q`, `params.id`). Free-form JSON fields add a size limit in their schema
 * (`freeFormObject` in schemas/common.ts); decisions are checked again in the `decide` validator.
 */
export const inputBoundaryPlugin = fp(async (app) => {
  // Fastify's own parser refuses `__proto__` as "Body is not valid JSON" without saying where.
  // JSON.parse makes such a key a plain own property; the walk below names and refuses it before
  // any code could merge the body into another object.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    const body = String(text);
    if (body.trim() === '') {
      done(invalid([{ path: 'body', message: 'is empty; send a JSON document or no Content-Type' }]), undefined);
      return;
    }
    try {
      done(null, JSON.parse(body));
    } catch (error) {
      done(invalid([{ path: 'body', message: `is not valid JSON (${(error as Error).message.slice(0, 200)})` }]), undefined);
    }
  });

  // `done` rather than async: see the request-id plugin.
  app.addHook('preValidation', (request: FastifyRequest, _reply, done) => {
    const parts: [string, unknown][] = [
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ];
    for (const [root, value] of parts) {
      // A Buffer body (none today) is bytes, not text: its keys would be every byte.
      if (value === undefined || value === null || ArrayBuffer.isView(value)) continue;
      const fault = findInputFault(value, root);
      if (fault) return done(invalid([fault]));
    }
    done();
  });
});
