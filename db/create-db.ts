import { Kysely, type KyselyConfig, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from './database';

// BIGINT (audit ids, counts) would otherwise come back as strings; Warden's never exceed 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface DbHandle {
  db: Kysely<Database>;
  close(): Promise<void>;
}

/**
 * How long a request waits for a pool connection (a new one, or a busy pool's next free one) before
 * it fails. pg waits for ever by default, so a PostgreSQL that hung or a pool exhausted by stuck
 * queries held requests until the client gave up; failing within 3 s lets the API answer 503 with
 * Retry-After, and an activity fail its attempt and retry on its own schedule.
 */
export const connectionTimeoutMs = 3_000;
/** How long close() waits for checked-out clients (a query stuck on a lock) before it lets go of them. */
const closeTimeoutMs = 2_000;

/** `log` sees every query Kysely runs (the read benchmark records what a request sent). */
export function createDb(
  connectionString: string,
  logger?: Pick<Logger, 'warn'>,
  maxConnections = 10,
  log?: KyselyConfig['log'],
): DbHandle {
  const pool = new pg.Pool({ connectionString, max: maxConnections, connectionTimeoutMillis: connectionTimeoutMs });
  // Without a listener, a client's 'error' event (PostgreSQL restarting: 57P01) is thrown as an
  // uncaught exception and takes the process down. The pool listens on its idle clients only; a
  // client checked out by a query or a transaction when the server goes away emits on itself, so
  // every client gets its own listener as it connects. The query it was running fails with the same
  // error, and the pool discards the client when it is released.
  pool.on('error', (error) => logger?.warn({ err: error }, 'idle PostgreSQL client failed; the pool will reconnect'));
  pool.on('connect', (client) => {
    client.on('error', (error) => logger?.warn({ err: error }, 'PostgreSQL connection failed; the pool will reconnect'));
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(log ? { log } : {}) });
  return {
    db,
    // pool.end() waits for every checked-out client; one stuck in a query must not keep a process
    // that is shutting down alive, and exiting closes its socket anyway.
    close: () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          logger?.warn('PostgreSQL connections still busy at shutdown; leaving them');
          resolve();
        }, closeTimeoutMs);
        db.destroy().then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      }),
  };
}

/** jsonb values go in as text: pg would turn a top-level JS array into a PostgreSQL array. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/** Resolves when PostgreSQL answers a query through the pool: what readiness means for the database. */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
