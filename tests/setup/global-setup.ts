import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { freePort, startEmbeddedPostgres } from '../../cli/embedded-postgres';
import { createDb } from '../../db/create-db';
import { prepareDatabase } from '../../wiring';
import { generateCodecKeys } from '../../temporal/codec';
import { startQuietDevServer } from '../../bench/scratch-services';
import { bundleWorkflows } from '../../worker';
import { createDatabase, databaseUrl, dropDatabase, withAdminClient } from './postgres';
import './context';

/**
 * One Temporal dev server, one workflow bundle and one migrated template database for the run.
 * Each test file clones the template (fast, isolated) and runs its own worker on its own queue.
 */
export default async function setup(project: TestProject) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'warden-test-'));
  // An embedded PostgreSQL runs as the postgres user when we are root: it must reach its folder.
  chmodSync(scratch, 0o755);
  const runId = randomBytes(4).toString('hex');
  const cleanups: (() => Promise<void>)[] = [];

  const env = await startQuietDevServer();
  cleanups.push(() => env.teardown());

  let postgresAdminUrl = process.env.DATABASE_URL;
  if (!postgresAdminUrl) {
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'postgres'), port: await freePort() });
    cleanups.push(() => embedded.stop());
    postgresAdminUrl = embedded.adminUrl;
  }

  const databasePrefix = `warden_t_${runId}_`;
  const templateDatabase = `${databasePrefix}template`;
  await createDatabase(postgresAdminUrl, templateDatabase);
  const template = createDb(databaseUrl(postgresAdminUrl, templateDatabase));
  await prepareDatabase(template.db);
  await template.close();
  cleanups.push(async () => {
    const { rows } = await withAdminClient(postgresAdminUrl, (c) =>
      c.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${databasePrefix}%`]),
    );
    for (const { datname } of rows) await dropDatabase(postgresAdminUrl, datname);
  });

  // The bundle `warden build` makes, interceptors included, so replays run what workers run.
  const code = await bundleWorkflows();
  const workflowBundlePath = path.join(scratch, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, code);

  project.provide('temporalAddress', env.address);
  project.provide('postgresAdminUrl', postgresAdminUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('databasePrefix', databasePrefix);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('codecKeys', generateCodecKeys('test'));

  return async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error('teardown:', error));
    rmSync(scratch, { recursive: true, force: true });
  };
}
