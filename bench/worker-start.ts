/**
 * Worker start-to-polling time of `warden worker`, as a process: before `warden build` (the sources
 * through tsx, bundling the workflows at start), with only the workflow bundle prebuilt, and after
 * `warden build` (the compiled program and the prebuilt bundle), side by side with the bare floor: a
 * plain Temporal worker process loading the same prebuilt bundle with one activity, which is what
 * the SDK itself costs, and a Node process that only starts and exits.
 * Run: npm run bench:worker-start (BENCH_RUNS, default 3).
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { productionBuild } from '../cli/build';
import { fileURLToPath } from 'node:url';
import { createDb } from '../db/create-db';
import { generateCodecKeys } from '../temporal/codec';
import { prepareDatabase } from '../wiring';
import { prebuiltBundle } from '../cli/workflow-bundle';
import { startScratchServices } from './scratch-services';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Milliseconds from spawn until the process prints `line` (or exits, for the floor). */
function timeUntil(args: string[], env: Record<string, string>, line?: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (line && output.includes(line)) {
        resolve(performance.now() - started);
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      line ? reject(new Error(`exited ${code} before "${line}":\n${output}`)) : resolve(performance.now() - started),
    );
  });
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0 };
};
const fmt = ({ median, min, max }: ReturnType<typeof stats>) =>
  `${(median / 1000).toFixed(2)} s (${(min / 1000).toFixed(2)}–${(max / 1000).toFixed(2)})`;

const services = await startScratchServices('workerstart');
try {
  const { db, close } = createDb(services.databaseUrl);
  await prepareDatabase(db);
  await close();
  const env = {
    DATABASE_URL: services.databaseUrl,
    TEMPORAL_ADDRESS: services.env.address,
    TEMPORAL_TASK_QUEUE: 'bench-worker-start',
    WARDEN_CODEC_KEYS: generateCodecKeys('bench'),
    LOG_LEVEL: 'info',
  };
  const ready = '"msg":"worker polling"';
  const times = async (args: string[], line?: string) => {
    const measured: number[] = [];
    for (let i = 0; i < runs; i++) measured.push(await timeUntil(args, env, line));
    return stats(measured);
  };
  const timeWorkerStarts = () => times(['bin/warden.js', 'worker'], ready);
  const node = await times(['-e', '']);

  await timeUntil(['bin/warden.js', 'build'], {});
  const bareWorker = `
    import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
    const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
    const worker = await Worker.create({
      connection, taskQueue: 'bench-bare-worker', workflowBundle: { codePath: ${JSON.stringify(prebuiltBundle.code)} },
      activities: { noop: async () => {} },
    });
    const running = worker.run();
    console.log('bare worker polling');
    worker.shutdown();
    await running;`;
  const floor = await times(['--input-type=module', '-e', bareWorker], 'bare worker polling');

  rmSync(productionBuild.manifest, { force: true });
  rmSync(prebuiltBundle.code, { force: true });
  const bundling = await timeWorkerStarts();
  await timeUntil(['bin/warden.js', 'build'], {});
  // The program's manifest gone, bin/warden.js runs the sources through tsx, with the prebuilt bundle.
  rmSync(productionBuild.manifest, { force: true });
  const prebuiltBundleOnly = await timeWorkerStarts();
  await timeUntil(['bin/warden.js', 'build'], {});
  const built = await timeWorkerStarts();

  const row = (path: string, figure: ReturnType<typeof stats>) =>
    `| ${path} | ${fmt(figure)} | ${fmt(floor)} | ${(figure.median / floor.median).toFixed(1)}× | ${figure.median <= 1500 ? 'yes' : 'no'} |\n`;
  process.stdout.write(
    `\nwarden worker, spawn to polling, median (min–max) of ${runs} runs (dev server on this machine; node -e "" takes ${fmt(node)})\n\n` +
      '| path | Warden | bare floor: a Temporal worker with the same bundle | ratio | ≤ 1.5 s |\n|---|---|---|---|---|\n' +
      row('before: sources through tsx, bundling at start', bundling) +
      row('sources through tsx, prebuilt workflow bundle', prebuiltBundleOnly) +
      row('after `warden build`: compiled program and bundle', built),
  );
} finally {
  await services.close();
}
