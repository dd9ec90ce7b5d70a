import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort, startEmbeddedPostgres } from '../cli/embedded-postgres';
import { resolveTemporalCli } from '../cli/temporal-cli';
import type { Kysely } from 'kysely';
import { json } from '../db/create-db';
import type { Database } from '../db/database';
import { defaultSla } from '../domain/sla';
import { setupTemporalNamespace } from '../temporal/setup';

/** A Temporal dev server and an empty database of their own, for one benchmark or fuzz run. */
export interface ScratchServices {
  env: TestWorkflowEnvironment;
  /** The scratch database's URL. */
  databaseUrl: string;
  database: string;
  /** A connection to the server as its administrator (the scratch database is dropped through it). */
  admin: pg.Client;
  close(): Promise<void>;
}

/** A Temporal dev server on loopback, without its UI, logging errors only: the tests' and the benchmarks'. */
export async function startQuietDevServer(): Promise<TestWorkflowEnvironment> {
  const cli = await resolveTemporalCli();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ...(cli ? { executable: { type: 'existing-path' as const, path: cli.path } } : {}),
      ip: '127.0.0.1',
      ui: false,
      extraArgs: ['--log-level', 'error'],
    },
  });
  // As `warden start` does for its own: Warden's workflows publish Search Attributes the server must know.
  await setupTemporalNamespace({ address: env.address, namespace: env.namespace ?? 'default' });
  return env;
}

/** A service and one high-classification server CI owned by `owner`, for a run to report incidents on. */
export async function seedServiceWithCi(db: Kysely<Database>, names: { service: string; ci: string; owner: string }) {
  const service = await db
    .insertInto('services')
    .values({ name: names.service, owner: names.owner, sla: json(defaultSla) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return db
    .insertInto('configuration_items')
    .values({
      name: names.ci,
      type: 'server',
      service_id: service.id,
      owner: names.owner,
      confidentiality: 'high',
      integrity: 'high',
      availability: 'high',
      attributes: json({}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

/**
 * Starts the dev server (the CLI the tests use) and creates `<prefix>_<random>` on the PostgreSQL
 * of DATABASE_URL, or on an embedded one when it is unset; `close()` drops and stops everything.
 */
export async function startScratchServices(prefix: string): Promise<ScratchServices> {
  const env = await startQuietDevServer();
  const embedded = process.env.DATABASE_URL
    ? undefined
    : await startEmbeddedPostgres({ dataDir: `/tmp/warden-${prefix}-${randomBytes(3).toString('hex')}`, port: await freePort() });
  const adminUrl = process.env.DATABASE_URL ?? (embedded?.adminUrl as string);
  const database = `warden_${prefix}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  // A lost connection fails the next query; unheard, its 'error' event would end the run instead.
  admin.on('error', () => {});
  await admin.connect();
  await admin.query(`create database ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return {
    env,
    databaseUrl: url.toString(),
    database,
    admin,
    async close() {
      await admin.query(`drop database ${database} with (force)`);
      await admin.end();
      await env.teardown();
      await embedded?.stop();
    },
  };
}
