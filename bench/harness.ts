import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { Worker } from '@temporalio/worker';
import { type Config, loadConfig } from '../config';
import { createDb } from '../db/create-db';
import type { Database } from '../db/database';
import { createToken } from '../db/tokens';
import { buildServer } from '../server';
import { generateCodecKeys } from '../temporal/codec';
import { connectTemporalClient, type TemporalClientHandle } from '../temporal/connection';
import { createWardenWorker, type WardenWorker } from '../worker';
import { prepareDatabase, serverDeps, temporalSettings, workerConcurrency } from '../wiring';
import * as baselineActivities from './baseline-activities';
import { type ScratchServices, seedServiceWithCi, startScratchServices } from './scratch-services';
import { type CallAs, drivingOwner, drivingPrincipals } from './task-driver';

export const silent = pino({ level: 'silent' });
/** Warden's API and its bare floors use pools of the same size, so neither wins on connections. */
export const poolSize = 20;
export const baselineTaskQueue = 'bench-baseline';
/** Settings taken from the environment when set, to measure Warden with and without them. */
const tunables = ['WARDEN_AUTH_CACHE_TTL', 'WARDEN_AUTH_CACHE_ENTRIES', 'WARDEN_API_DB_POOL_SIZE', 'WARDEN_WORKER_DB_POOL_SIZE'] as const;

/** Runs `run(i)` for i in [0, items) with at most `parallel` at once; answers the results in order. */
export async function inParallel<T>(items: number, parallel: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(items);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items) }, async () => {
      while (next < items) {
        const i = next++;
        results[i] = await run(i);
      }
    }),
  );
  return results;
}

/** Milliseconds `run` took. */
export async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** CPU time every process of the machine has spent so far (user, nice, system and interrupts on all cores), in ms. */
function machineBusyMs(): number {
  return cpus().reduce((sum, { times }) => sum + times.user + times.nice + times.sys + times.irq, 0);
}

/**
 * Runs `run` and answers the machine's CPU it took per item, every process counted (this one, the
 * dev server, PostgreSQL): steadier from run to run than a rate. `run` should last until the work
 * the items cause is done.
 */
export async function machineCpuPerItem(items: number, run: () => Promise<unknown>): Promise<number> {
  const before = machineBusyMs();
  await run();
  return (machineBusyMs() - before) / items;
}

/** Items per second when `items` took `ms`. */
export const perSecond = (items: number, ms: number) => (items / ms) * 1000;

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Polls `ready` every `pollMs` until it answers a value, failing after `timeoutMs`: waiting for state,
 * not for time. A heavy look (thousands of ids) polls less often, so as not to load what it waits for.
 */
export async function eventually<T>(what: string, ready: () => Promise<T | undefined>, timeoutMs = 600_000, pollMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await ready();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** A database handle whose queries can be recorded as they run: the read floor replays what Warden sent. */
export function recordingDb(connectionString: string) {
  let recorded: { sql: string; parameters: readonly unknown[] }[] | undefined;
  const handle = createDb(connectionString, silent, poolSize, (event) => {
    if (event.level === 'query') recorded?.push({ sql: event.query.sql, parameters: event.query.parameters });
  });
  return {
    ...handle,
    /** The statements `run` sent through `db`, in order. */
    async record(run: () => Promise<unknown>) {
      recorded = [];
      await run();
      const statements = recorded;
      recorded = undefined;
      return statements;
    },
  };
}

/**
 * A bare floor: Fastify with no plugins, and a pg pool of Warden's size on the same database.
 * `routes` adds what the floor serves; answers its URL.
 */
export async function startBareServer(databaseUrl: string, routes: (app: FastifyInstance, pool: pg.Pool) => void) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  const app = Fastify({ logger: false });
  routes(app, pool);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    async close() {
      await app.close();
      await pool.end();
    },
  };
}

/** One Warden (API and worker in this process, each with its own pool, as `warden start` runs them) on scratch servers, and the bare floors' worker. */
export interface WardenStack {
  scratch: ScratchServices;
  config: Config;
  db: Kysely<Database>;
  record: ReturnType<typeof recordingDb>['record'];
  temporal: TemporalClientHandle;
  app: FastifyInstance;
  baseUrl: string;
  worker: WardenWorker;
  /** A CI owned by the driving owner, for incidents to affect and alerts to name. */
  ciId: string;
  ciName: string;
  /** An API call as one of the driving principals (task-driver.ts). */
  call: CallAs;
  /** How many answers were 503 and retried (`untilAvailable`) so far: load Warden shed. */
  shed: { unavailable: number };
  /** The bearer token of a driving principal. */
  tokenOf(principalId: string): string;
  close(): Promise<void>;
}

export async function startWardenStack(): Promise<WardenStack> {
  const scratch = await startScratchServices('bench');
  const config = loadConfig({
    DATABASE_URL: scratch.databaseUrl,
    TEMPORAL_ADDRESS: scratch.env.address,
    TEMPORAL_TASK_QUEUE: 'bench',
    WARDEN_CODEC_KEYS: generateCodecKeys('bench'),
    WARDEN_RATE_LIMIT_PER_MINUTE: '100000000',
    WARDEN_API_DB_POOL_SIZE: String(poolSize),
    LOG_LEVEL: 'silent',
    // What a before-and-after comparison turns (WARDEN_AUTH_CACHE_TTL=0s: a lookup per request).
    ...Object.fromEntries(tunables.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : []))),
  });
  const { db, record, close: closeDb } = recordingDb(scratch.databaseUrl);
  await prepareDatabase(db);
  const temporal = await connectTemporalClient(temporalSettings(config, 'for the benchmark'));
  const app = await buildServer(serverDeps(config, { db, temporal }));
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  // Its own pool, as `warden start` gives it (cli/services.ts, openDatabase).
  const workerDb = createDb(scratch.databaseUrl, silent, workerConcurrency(config).poolSize);
  const worker = await createWardenWorker({ config, db: workerDb.db, logger: silent });
  const wardenRun = worker.run();
  const baseline = await Worker.create({
    connection: scratch.env.nativeConnection,
    taskQueue: baselineTaskQueue,
    workflowsPath: fileURLToPath(new URL('./baseline-workflows.ts', import.meta.url)),
    activities: baselineActivities,
  });
  const baselineRun = baseline.run();

  const tokens = new Map<string, string>();
  for (const { id, roles } of drivingPrincipals)
    tokens.set(id, (await createToken(db, { name: id, principalId: id, roles }, 'bench')).token);
  const ciName = 'bench-ci';
  const ci = await seedServiceWithCi(db, { service: 'bench', ci: ciName, owner: drivingOwner });
  const shed = { unavailable: 0 };
  const call: CallAs = async (method, route, principalId, body, headers = {}) => {
    const response = await untilAvailable(shed, () =>
      fetch(baseUrl + route, {
        method,
        headers: {
          authorization: `Bearer ${tokens.get(principalId)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const stack: WardenStack = {
    scratch,
    config,
    db,
    record,
    temporal,
    app,
    baseUrl,
    worker,
    ciId: ci.id,
    ciName,
    call,
    shed,
    tokenOf: (principalId) => tokens.get(principalId) ?? '',
    async close() {
      await app.close();
      await worker.shutdown();
      await wardenRun;
      baseline.shutdown();
      await baselineRun;
      await temporal.close();
      await workerDb.close();
      await closeDb();
      await scratch.close();
    },
  };
  return stack;
}

/**
 * Sends until the answer is not 503, waiting the Retry-After each 503 gives as a well-behaved client
 * does (Warden answers 503 when PostgreSQL or Temporal is too busy to answer within its timeouts),
 * counting the 503s in `shed`.
 */
export async function untilAvailable(shed: { unavailable: number }, send: () => Promise<Response>): Promise<Response> {
  for (;;) {
    const response = await send();
    if (response.status !== 503) return response;
    shed.unavailable += 1;
    await response.body?.cancel();
    const retryAfter = Number(response.headers.get('retry-after')) || 1;
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
  }
}

/**
 * Waits until every incident has done all it does before a person acts: registered, its SLA clocks
 * started, its acknowledge task opened and announced (the task's notification is its last write).
 * With `tasksAnnounced` 2, until the incident has gone on from its acknowledgement as far as the
 * next person (the triage task announced). A benchmark waits for this before its floor runs, so the
 * floor does not run under the work Warden's side left behind.
 */
export async function incidentsSettled(stack: WardenStack, incidentIds: string[], tasksAnnounced = 1) {
  await eventually(
    'every started incident waiting on a person',
    async () => {
      // Distinct tasks: an escalation announces its task again.
      const { rows } = await sql<{ announced: number }>`
        select count(distinct task_id)::int as announced from notifications
         where subject_type = 'incident' and subject_id = any(${incidentIds}::text[]) and task_id is not null`.execute(stack.db);
      return (rows[0]?.announced ?? 0) >= incidentIds.length * tasksAnnounced ? true : undefined;
    },
    600_000,
    incidentIds.length === 1 ? 20 : 200,
  );
}

/** A workflow id no other run on the shared dev server uses. */
export const uniqueId = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;
