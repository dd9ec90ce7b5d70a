import httpProxy from '@fastify/http-proxy';
import type { FastifyInstance } from 'fastify';
import { payloadReaders } from '../http/roles';
import { uiPrefix } from './page';

/** Where the Temporal UI appears in the inbox; its server must be started with this public path. */
export const temporalUiPath = `${uiPrefix}/temporal`;

/**
 * The Temporal Web UI, served by Warden behind the inbox session. The UI asks the codec endpoint
 * to decode payloads from the browser; from another origin it sends no cookie (the UI server has
 * no setting for credentials), so /codec/decode refuses it and people see ciphertext. Served from
 * Warden's own origin, the same request carries the session cookie, and the codec endpoint decodes
 * for exactly the people it admits: signed in, with a role that may read payloads, audited.
 * Only GET and HEAD pass: the UI's write actions (terminate, signal, reset) would bypass Warden's
 * own rules and audit trail, so through Warden the UI is read-only.
 */
export function temporalUi(upstream: string) {
  return async function temporalUiProxy(app: FastifyInstance) {
    // Pages of another application, not operations of Warden's API: out of the OpenAPI document.
    app.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, hide: true };
    });
    await app.register(httpProxy, {
      upstream,
      // Relative to the inbox's own prefix (/ui); the UI server's public path is the full one.
      prefix: temporalUiPath.slice(uiPrefix.length),
      rewritePrefix: temporalUiPath,
      httpMethods: ['GET', 'HEAD'],
      // Reads only: no bodies to pass through, and the API's own JSON parser stays in charge.
      proxyPayloads: false,
      // The UI server sends its own security headers for its own pages (inline hydration scripts
      // included); Warden's CSP, made for the inbox, would break them.
      config: { roles: payloadReaders, credentials: ['session'], helmet: { skipRoute: true } },
    });
  };
}
