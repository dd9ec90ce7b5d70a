/**
 * Prints, side by side: incidents/s through POST /incidents vs bare workflow starts, and the
 * p50/p99 of POST /tasks/:id/decision vs a bare Update. Run: npm run bench
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { buildServer } from '../server';
import { loadConfig } from '../config';
import { createDb } from '../db/create-db';
import { prepareDatabase, serverDeps, temporalSettings } from '../wiring';
import { createToken } from '../db/tokens';
import { generateCodecKeys } from '../temporal/codec';
import { connectTemporalClient } from '../temporal/connection';
import { createWardenWorker } from '../worker';
import { bumpUpdate, emptyWorkflow, finishSignal, updatableWorkflow } from './baseline-workflows';
import { seedServiceWithCi, startScratchServices } from './scratch-services';

const count = Number(process.env.BENCH_COUNT ?? 200);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 20);
const decisions = Number(process.env.BENCH_DECISIONS ?? 100);

Runtime.install({ logger: new DefaultLogger('WARN') });
const silent = pino({ level: 'silent' });

async function pool<T>(items: number, parallel: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(items);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < items) {
        const i = next++;
        results[i] = await run(i);
      }
    }),
  );
  return results;
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main() {
  const scratch = await startScratchServices('bench');
  const { env } = scratch;

  const codecKeys = generateCodecKeys('bench');
  const config = loadConfig({
    DATABASE_URL: scratch.databaseUrl,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: 'bench',
    WARDEN_CODEC_KEYS: codecKeys,
    WARDEN_RATE_LIMIT_PER_MINUTE: '1000000',
    LOG_LEVEL: 'silent',
  });
  const handle = createDb(scratch.databaseUrl, silent, 20);
  await prepareDatabase(handle.db);
  const temporal = await connectTemporalClient(temporalSettings(config, 'for the benchmark'));
  const app = await buildServer(serverDeps(config, { db: handle.db, temporal }));
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  const warden = await createWardenWorker({ config, db: handle.db, logger: silent });
  void warden.run();
  const baseline = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'bench-baseline',
    workflowsPath: fileURLToPath(new URL('./baseline-workflows.ts', import.meta.url)),
  });
  const baselineRun = baseline.run();

  const reporter = (await createToken(handle.db, { name: 'bench-reporter', roles: ['reporter', 'security_analyst'] }, 'bench')).token;
  const ci = await seedServiceWithCi(handle.db, { service: 'bench', ci: 'bench-ci', owner: 'bench' });
  const post = (path: string, body: unknown): Promise<{ id: string }> =>
    fetch(baseUrl + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${reporter}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => {
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as { id: string };
    });

  // Warm both paths so the first-request costs (JIT, connections, bundles) are not measured.
  await post('/incidents', { title: 'warm-up', description: '', category: 'malware', affectedCis: [ci.id], source: 'bench' });
  await env.client.workflow.execute(emptyWorkflow, { taskQueue: 'bench-baseline', workflowId: `warm-${randomBytes(4).toString('hex')}` });

  const incidentIds: string[] = [];
  const apiMs = await timed(() =>
    pool(count, concurrency, async (i) =>
      incidentIds.push(
        (await post('/incidents', { title: `bench ${i}`, description: '', category: 'malware', affectedCis: [ci.id], source: 'bench' })).id,
      ),
    ),
  );
  const bareMs = await timed(() =>
    pool(count, concurrency, (i) =>
      env.client.workflow.start(emptyWorkflow, { taskQueue: 'bench-baseline', workflowId: `empty-${i}-${randomBytes(4).toString('hex')}` }),
    ),
  );

  // Decisions: acknowledge the first `decisions` incidents once their tasks are open.
  const tasks: string[] = [];
  for (const id of incidentIds.slice(0, decisions)) {
    for (;;) {
      const row = await handle.db
        .selectFrom('human_tasks')
        .select('id')
        .where('subject_id', '=', id)
        .where('kind', '=', 'incident.acknowledge')
        .executeTakeFirst();
      if (row) {
        tasks.push(row.id);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20)); // polling for readiness, not timing
    }
  }
  const decisionLatencies: number[] = [];
  for (const taskId of tasks) decisionLatencies.push(await timed(() => post(`/tasks/${taskId}/decision`, { outcome: 'acknowledged' })));
  const target = await env.client.workflow.start(updatableWorkflow, {
    taskQueue: 'bench-baseline',
    workflowId: `updatable-${randomBytes(4).toString('hex')}`,
  });
  await target.executeUpdate(bumpUpdate, { args: [1] });
  const updateLatencies: number[] = [];
  for (let i = 0; i < decisions; i++) updateLatencies.push(await timed(() => target.executeUpdate(bumpUpdate, { args: [1] })));
  await target.signal(finishSignal);

  const rate = (ms: number) => ((count / ms) * 1000).toFixed(1);
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `\nWarden benchmark: ${count} starts at concurrency ${concurrency}, ${decisions} sequential decisions (2-core machine, dev server on SQLite in memory)\n`,
  );
  console.table({
    'starts per second': {
      warden: `${rate(apiMs)} incidents/s (POST /incidents)`,
      baseline: `${rate(bareMs)} workflows/s (client.workflow.start, empty workflow)`,
    },
    'decision p50': { warden: fmt(percentile(decisionLatencies, 50)), baseline: fmt(percentile(updateLatencies, 50)) },
    'decision p99': { warden: fmt(percentile(decisionLatencies, 99)), baseline: fmt(percentile(updateLatencies, 99)) },
  });

  await app.close();
  await warden.shutdown();
  baseline.shutdown();
  await baselineRun;
  await temporal.close();
  await handle.close();
  await scratch.close();
}

await main();
