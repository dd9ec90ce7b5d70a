import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, inject, it } from 'vitest';
import { configSchema } from '../../config';
import { prebuiltBundle, usablePrebuiltBundle, workflowSourceDigest } from '../../cli/workflow-bundle';
import { productionBuild } from '../../cli/build';
import { createDatabase, databaseUrl, dropDatabase } from '../setup/postgres';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const database = `${inject('databasePrefix')}bundle`;

afterAll(() => dropDatabase(inject('postgresAdminUrl'), database));

/** `warden worker` until it polls; its output says whether it bundled at start, and (Node's ESM debug log) what it loaded. */
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
      NODE_DEBUG: 'esm',
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

/** The modules `warden --version` loads (Node's ESM debug log), and what it says on stderr. */
async function versionRun(): Promise<{ loaded: string; warning: string }> {
  const { stderr } = await run(process.execPath, ['bin/warden.js', '--version'], {
    cwd: repoRoot,
    env: { ...process.env, NODE_DEBUG: 'esm' },
  });
  const lines = stderr.split('\n');
  return {
    loaded: lines.filter((line) => line.startsWith('ESM ')).join('\n'),
    warning: lines.filter((line) => line.startsWith('warden:')).join('\n'),
  };
}

it('runs the compiled program `warden build` made, and the sources again once one changes', async () => {
  const { stdout } = await run(process.execPath, ['bin/warden.js', 'build'], { cwd: repoRoot });
  expect(stdout).toMatch(/dist\/program\/: \d+ KiB of JavaScript/);
  const manifest = readFileSync(productionBuild.manifest, 'utf8');
  const inputs = Object.keys(JSON.parse(manifest).inputs);
  expect(inputs).toEqual(expect.arrayContaining(['cli/warden.ts', 'worker.ts', 'server.ts', 'workflows/incident/definitions.ts']));

  const built = await versionRun();
  expect(built.loaded).toContain(`file://${productionBuild.program}`);
  expect(built.loaded).not.toContain('cli/warden.ts');
  expect(built.warning).toBe('');
  // The compiled program carries its own copy of zod and the type provider: the OpenAPI document they
  // make must be the one the sources make.
  const openApi = async () => JSON.parse((await run(process.execPath, ['bin/warden.js', 'openapi'], { cwd: repoRoot })).stdout);
  const builtOpenApi = await openApi();

  // One source no longer has the digest it was built from: the sources run, and the user is told why.
  writeFileSync(productionBuild.manifest, JSON.stringify({ inputs: { ...JSON.parse(manifest).inputs, 'server.ts': 'other sources' } }));
  try {
    const stale = await versionRun();
    expect(stale.warning).toBe('warden: dist/ is stale (server.ts changed since `warden build`): running the sources through tsx');
    expect(stale.loaded).toContain('cli/warden.ts');
    expect(stale.loaded).not.toContain(`file://${productionBuild.program}`);
    expect(await openApi()).toEqual(builtOpenApi);
  } finally {
    writeFileSync(productionBuild.manifest, manifest);
  }
}, 120_000);

it('loads the bundle `warden build` made from these sources, and never a stale one', async () => {
  await createDatabase(inject('postgresAdminUrl'), database, inject('templateDatabase'));
  const { stdout } = await run(process.execPath, ['bin/warden.js', 'build'], { cwd: repoRoot });
  expect(stdout).toMatch(/dist\/workflow-bundle\.js: \d+ KiB/);
  expect(JSON.parse(readFileSync(prebuiltBundle.manifest, 'utf8')).sourceDigest).toBe(workflowSourceDigest());
  expect(usablePrebuiltBundle()).toEqual({ path: prebuiltBundle.code });
  const started = await workerStartOutput();
  expect(started).not.toContain('bundling the workflows at start');
  // What only other commands or a rare activity need stays out of a worker's start (issue #21).
  expect(started).toContain('node_modules/@temporalio/worker/');
  for (const notAtStart of ['fastify', 'yaml', 'nodemailer']) expect(started).not.toContain(`node_modules/${notAtStart}/`);

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
