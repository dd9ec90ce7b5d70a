import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Kysely } from 'kysely';
import type { PayloadCodec } from '@temporalio/common';
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from './config';
import type { Database } from './db/database';
import type { TemporalClientHandle } from './temporal/connection';
import { createCredentialCache, type CredentialCache, type CredentialCacheSettings } from './http/credential-cache';
import { authPlugin, rateLimitKey, type AuthOptions } from './http/plugins/auth';
import { errorsPlugin, frameworkErrors } from './http/plugins/errors';
import { inputBoundaryPlugin } from './http/plugins/input-boundary';
import { metricsPlugin } from './http/plugins/metrics';
import { requestIdFor, requestIdPlugin } from './http/plugins/request-id';
import { securityHeadersPlugin } from './http/plugins/security-headers';
import { createResponseSerializers, type ResponseSerializers } from './http/response-serializer';
import { finishOpenApiDocument, impossibleProblemsRemoved } from './http/openapi';
import { routes } from './api/routes/index';
import { pages } from './web/pages/index';
import { webInbox } from './web/plugin';
import { inboxPath, uiPrefix } from './web/page';
import { wardenVersion } from './version';

export interface ServerDeps {
  config: Config;
  db: Kysely<Database>;
  temporal: TemporalClientHandle;
  codec: PayloadCodec;
  /** Unset: every request looks its credentials up (`warden openapi`, which serves none). */
  credentialCache?: CredentialCacheSettings;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Kysely<Database>;
    temporal: TemporalClientHandle;
    codec: PayloadCodec;
    credentials: CredentialCache;
    /** What serializes each route's responses, per status (http/response-serializer.ts). */
    responseSerializers: ResponseSerializers;
  }
}

export type Server = FastifyInstance;

/** Fastify's `trustProxy` forms; a hop count as the function Fastify itself would build from it. */
function trustProxy(setting: Config['WARDEN_TRUST_PROXY']) {
  return typeof setting === 'number' ? (_address: string, hop: number) => hop < setting : setting;
}

export async function buildServer(deps: ServerDeps, options: { logger?: FastifyBaseLogger } = {}) {
  const app = Fastify({
    // Fastify 5 takes a ready pino instance as `loggerInstance`; `logger` only takes options.
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: deps.config.WARDEN_BODY_LIMIT_BYTES,
    // X-Forwarded-For is believed only from configured proxies: anyone can send the header, and the
    // client address keys the rate limit of requests without valid credentials.
    trustProxy: trustProxy(deps.config.WARDEN_TRUST_PROXY),
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors,
    // X-Request-Id is honoured (or a UUID made) by requestIdFor, and one line per request is logged
    // by the request-id plugin, with the principal, which Fastify's own request logging cannot know.
    genReqId: requestIdFor,
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  const responseSerializers = createResponseSerializers();
  app.setSerializerCompiler(responseSerializers.compiler);
  app.decorate('responseSerializers', responseSerializers);
  app.decorate('config', deps.config);
  app.decorate('db', deps.db);
  app.decorate('temporal', deps.temporal);
  app.decorate('codec', deps.codec);
  const credentials = createCredentialCache(deps.db, deps.credentialCache ?? { ttlMs: 0, maxEntries: 1, databaseUrl: undefined }, app.log);
  app.decorate('credentials', credentials);
  app.addHook('onClose', () => credentials.close());

  await app.register(requestIdPlugin);
  await app.register(errorsPlugin);
  // Before every route, the inbox's included: its JSON parser and its check apply to all of them.
  await app.register(inputBoundaryPlugin);
  await app.register(securityHeadersPlugin);
  // Not a hook of its own: the auth plugin runs the limiter once it knows whose budget a request
  // spends (a route hook would run after authentication and never limit failed attempts).
  await app.register(rateLimit, {
    global: false,
    max: deps.config.WARDEN_RATE_LIMIT_PER_MINUTE,
    timeWindow: '1 minute',
    keyGenerator: rateLimitKey,
    allowList: (request) => request.url === '/healthz' || request.url === '/readyz',
    errorResponseBuilder: (request, context) => ({
      statusCode: 429,
      message: `rate limit of ${context.max} requests per ${context.after} exceeded for this ${request.actor ? 'token' : 'client address'}`,
    }),
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Warden',
        version: wardenVersion,
        description: 'ITIL IT Security Management as durable Temporal workflows.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: (input) => {
      const transformed = jsonSchemaTransform(input);
      const schema = transformed.schema as { response?: Record<string, unknown> };
      return { ...transformed, schema: { ...schema, response: impossibleProblemsRemoved(schema.response, input.route) } };
    },
    // Schemas with a meta id are emitted as $refs; this puts their definitions under components.
    // Then what the server's own behaviour says about every operation (http/openapi.ts).
    transformObject: (document) =>
      finishOpenApiDocument(jsonSchemaTransformObject(document), { serverUrl: deps.config.WARDEN_PUBLIC_URL ?? '/' }),
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  // Before auth: its hook reads the web inbox's session cookie.
  await app.register(cookie);
  await app.register(metricsPlugin);
  // The plugin's hook type is written for every server kind; this one is plain HTTP.
  await app.register(authPlugin, { limit: app.rateLimit() as unknown as AuthOptions['limit'] });
  await app.register(routes);
  await app.register(webInbox(pages), { prefix: uiPrefix });
  // People who open the bare address want the inbox; machines call the API's own paths.
  app.get('/', { config: { public: true }, schema: { hide: true } }, (_request, reply) => reply.redirect(inboxPath, 303));
  return app;
}

/**
 * The OpenAPI document without connecting to anything: routes need PostgreSQL and Temporal only to
 * serve requests, and none is served. For `warden openapi`, CI's linter and the generated client.
 */
export async function openApiDocument(config: Config): Promise<Record<string, unknown>> {
  // Route plugins may keep a reference to a dependency while registering; nothing calls it here.
  const unused = {} as never;
  const app = await buildServer({ config, db: unused, temporal: unused, codec: unused });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}
