import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `{ skipRoute: true }`: none of helmet's headers (pages of another application, which sends its own). */
    helmet?: { skipRoute?: boolean };
  }
}

/**
 * helmet's security headers (CSP, HSTS, X-Frame-Options, …) on every response but those of a route
 * that skips them. @fastify/helmet built helmet's middleware afresh for every request, its CSP
 * directives parsed again each time, and decorated every reply from a second, async hook. The
 * middleware is built once here and run on the raw response at the same point of the request as
 * before, so the same headers leave in the same order (issue #21, docs/performance.md).
 */
export const securityHeadersPlugin = fp<HelmetOptions>(async (app, options) => {
  const setSecurityHeaders = helmet(options);
  // helmet's middlewares set headers and call on synchronously; since helmet 8.1 they throw rather
  // than pass an error on, which Fastify answers as it does a hook's throw.
  const carryOn = (error?: unknown) => {
    if (error) throw error;
  };
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.routeOptions.config.helmet?.skipRoute) setSecurityHeaders(request.raw, reply.raw, carryOn);
    done();
  });
});
