import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from './database';

// BIGINT (audit ids, counts) would otherwise come back as strings; Warden's never exceed 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface DbHandle {
  db: Kysely<Database>;
  close(): Promise<void>;
}

export function createDb(connectionString: string, logger?: Pick<Logger, 'warn'>, maxConnections = 10): DbHandle {
  const pool = new pg.Pool({ connectionString, max: maxConnections });
  // Without a listener, an idle client's error (PostgreSQL restarting) is thrown as an uncaught
  // exception and takes the process down; the pool replaces the client on the next checkout.
  pool.on('error', (error) => logger?.warn({ err: error }, 'idle PostgreSQL client failed; the pool will reconnect'));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, close: () => db.destroy() };
}

/** jsonb values go in as text: pg would turn a top-level JS array into a PostgreSQL array. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/** Resolves when PostgreSQL answers a query through the pool: what readiness means for the database. */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
