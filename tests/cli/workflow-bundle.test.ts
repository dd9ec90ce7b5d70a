import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, inject, it } from 'vitest';
import { configSchema } from '../../config';
import { prebuiltBundle, usablePrebuiltBundle, workflowSourceDigest } from '../../cli/workflow-bundle';
import { createDatabase, databaseUrl, dropDatabase } from '../setup/postgres';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const database = `${inject('databasePrefix')}bundle`;

afterAll(() => dropDatabase(inject('postgresAdminUrl'), database));

/** `warden worker` until it polls; its output says whether it bundled at start. */
async function workerStartOutput(): Promise<string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in configSchema.shape)));
  const child = spawn(process.execPath, ['bin/warden.js', 'worker'], {
    cwd: repoRoot,
    env: {
      ...inherited,
      DATABASE_URL: databaseUrl(inject('postgresAdminUrl'), database),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: 'bundle-test',
      WARDEN_CODEC_KEYS: inject('codecKeys'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    let polling = false;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!polling && output.includes('"msg":"worker polling"')) {
        polling = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      polling ? resolve(output) : reject(new Error(`warden worker exited ${code} before polling:\n${output}`)),
    );
  });
}

it('loads the bundle `warden build` made from these sources, and never a stale one', async () => {
  await createDatabase(inject('postgresAdminUrl'), database, inject('templateDatabase'));
  const { stdout } = await run(process.execPath, ['bin/warden.js', 'build'], { cwd: repoRoot });
  expect(stdout).toMatch(/dist\/workflow-bundle\.js: \d+ KiB/);
  expect(JSON.parse(readFileSync(prebuiltBundle.manifest, 'utf8')).sourceDigest).toBe(workflowSourceDigest());
  expect(usablePrebuiltBundle()).toEqual({ path: prebuiltBundle.code });
  expect(await workerStartOutput()).not.toContain('bundling the workflows at start');

  // Built from other sources: the worker bundles for itself and says why.
  const manifest = readFileSync(prebuiltBundle.manifest, 'utf8');
  writeFileSync(prebuiltBundle.manifest, JSON.stringify({ sourceDigest: 'other sources' }));
  try {
    expect(usablePrebuiltBundle()).toEqual({ reason: expect.stringMatching(/stale/) });
    expect(await workerStartOutput()).toContain('bundling the workflows at start: the prebuilt bundle is stale');
  } finally {
    writeFileSync(prebuiltBundle.manifest, manifest);
  }
}, 120_000);
