import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Kysely } from 'kysely';
import type { PayloadCodec } from '@temporalio/common';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from './config';
import type { Database } from './db/database';
import type { TemporalClientHandle } from './temporal/connection';
import { authPlugin, tokenKey } from './http/plugins/auth';
import { errorsPlugin } from './http/plugins/errors';
import { frameworkErrors, inputBoundaryPlugin } from './http/plugins/input-boundary';
import { metricsPlugin } from './http/plugins/metrics';
import { routes } from './api/routes/index';
import { pages } from './web/pages/index';
import { webInbox } from './web/plugin';
import { uiPrefix } from './web/page';

export interface ServerDeps {
  config: Config;
  db: Kysely<Database>;
  temporal: TemporalClientHandle;
  codec: PayloadCodec;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    db: Kysely<Database>;
    temporal: TemporalClientHandle;
    codec: PayloadCodec;
  }
}

export type Server = FastifyInstance;

export async function buildServer(deps: ServerDeps, options: { logger?: FastifyBaseLogger } = {}) {
  const app = Fastify({
    // Fastify 5 takes a ready pino instance as `loggerInstance`; `logger` only takes options.
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: deps.config.WARDEN_BODY_LIMIT_BYTES,
    // Behind a proxy the forwarded address is the client; only trusted proxies should be in front.
    trustProxy: true,
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('config', deps.config);
  app.decorate('db', deps.db);
  app.decorate('temporal', deps.temporal);
  app.decorate('codec', deps.codec);

  await app.register(errorsPlugin);
  // Before every route, the inbox's included: its JSON parser and its check apply to all of them.
  await app.register(inputBoundaryPlugin);
  await app.register(helmet, { global: true });
  await app.register(rateLimit, {
    max: deps.config.WARDEN_RATE_LIMIT_PER_MINUTE,
    timeWindow: '1 minute',
    keyGenerator: (request) => tokenKey(request.headers.authorization) ?? request.ip,
    allowList: (request) => request.url === '/healthz' || request.url === '/readyz',
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      message: `rate limit of ${context.max} requests per ${context.after} exceeded for this token`,
    }),
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Warden',
        version: '0.1.0',
        description: 'ITIL IT Security Management as durable Temporal workflows.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    // Schemas with a meta id are emitted as $refs; this puts their definitions under components.
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  // Before auth: its hook reads the web inbox's session cookie.
  await app.register(cookie);
  await app.register(metricsPlugin);
  await app.register(authPlugin);
  await app.register(routes);
  await app.register(webInbox(pages), { prefix: uiPrefix });
  return app;
}
