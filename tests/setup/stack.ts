import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import pino, { type Logger } from 'pino';
import { buildServer, type Server } from '../../server';
import { loadConfig, type Config } from '../../config';
import { createDb } from '../../db/create-db';
import type { Database } from '../../db/database';
import { createToken } from '../../db/tokens';
import type { Role } from '../../domain/roles';
import { connectTemporalClient, type TemporalClientHandle } from '../../temporal/connection';
import { createWardenWorker, type WardenWorker } from '../../worker';
import { serverDeps, temporalSettings, workerConcurrency } from '../../wiring';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createDatabase, databaseUrl, dropDatabase } from './postgres';
import type { Kysely } from 'kysely';
import './context';

export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as is, for malformed-body tests. */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface Stack {
  config: Config;
  db: Kysely<Database>;
  databaseUrl: string;
  temporal: TemporalClientHandle;
  worker: WardenWorker | undefined;
  app: Server;
  baseUrl: string;
  /** A token for a new principal holding `roles`; the principal id defaults to a unique name. */
  token(roles: Role[], principalId?: string): Promise<string>;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<HttpResponse<T>>;
  startWorker(): Promise<WardenWorker>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

const silent = pino({ level: 'silent' });
// The SDK logs every worker state change at INFO; tests only want trouble.
Runtime.install({ logger: new DefaultLogger('WARN') });

/**
 * A real Warden for one test file: its own database cloned from the migrated template, its own task
 * queue and worker on the shared dev server, and the API listening on a loopback port.
 */
export async function startStack(
  options: { worker?: boolean; env?: Record<string, string> /** The API's logger; silent unless given. */; apiLogger?: Logger } = {},
): Promise<Stack> {
  const suffix = randomBytes(4).toString('hex');
  const adminUrl = inject('postgresAdminUrl');
  const database = `${inject('databasePrefix')}${suffix}`;
  await createDatabase(adminUrl, database, inject('templateDatabase'));
  const url = databaseUrl(adminUrl, database);

  const config = loadConfig({
    DATABASE_URL: url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `test-${suffix}`,
    WARDEN_CODEC_KEYS: inject('codecKeys'),
    WARDEN_RATE_LIMIT_PER_MINUTE: '100000',
    // Test receivers (webhooks, responders, checked servers) listen on loopback, which Warden refuses
    // unless allowed; tests/api/outbound.test.ts runs a stack with '' to see the refusal.
    WARDEN_OUTBOUND_ALLOW: '127.0.0.0/8,::1',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const handle = createDb(url, silent);
  const temporal = await connectTemporalClient(temporalSettings(config, 'for the test stack'));
  const app = await buildServer(serverDeps(config, { db: handle.db, temporal }), { logger: options.apiLogger });
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });

  // The worker's own pool, as every Warden process gives it (cli/services.ts); it connects on demand.
  const workerDb = createDb(url, silent, workerConcurrency(config).poolSize);
  let worker: WardenWorker | undefined;
  const startWorker = async () => {
    worker = await createWardenWorker({ config, db: workerDb.db, logger: silent, workflowBundlePath: inject('workflowBundlePath') });
    void worker.run();
    return worker;
  };
  const stopWorker = async () => {
    await worker?.shutdown();
    worker = undefined;
  };
  if (options.worker !== false) await startWorker();

  let principals = 0;
  const stack: Stack = {
    config,
    db: handle.db,
    databaseUrl: url,
    temporal,
    get worker() {
      return worker;
    },
    app,
    baseUrl,
    async token(roles, principalId) {
      principals += 1;
      const id = principalId ?? `${roles.join('+')}-${principals}`.replace(/_/g, '-');
      return (await createToken(handle.db, { name: id, principalId: id, roles }, 'test-harness')).token;
    },
    async request(method, path, { token, body, rawBody, headers } = {}) {
      const response = await fetch(baseUrl + path, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined || rawBody !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
      });
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      return { status: response.status, headers: response.headers, body: type.includes('json') && text ? JSON.parse(text) : text };
    },
    startWorker,
    stopWorker,
    async close() {
      await app.close();
      await stopWorker();
      await temporal.close();
      await workerDb.close();
      await handle.close();
      await dropDatabase(adminUrl, database);
    },
  };
  return stack;
}

/** Polls until `check` returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
