import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildServer } from '../../server';
import { serverDeps } from '../../wiring';
import type { Bench } from '../figures';
import { eventually, inParallel, uniqueId, untilAvailable, type WardenStack } from '../harness';
import { drivingReporter } from '../task-driver';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Resident memory of process `pid`, in MiB. */
function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib) / 1024;
}

/** The median of a few RSS readings a quarter second apart: one reading lands wherever the GC happens to be. */
async function settledRss(pid: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(rssMiB(pid));
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return readings.sort((a, b) => a - b)[2] as number;
}

/** `warden worker` as production runs it, alone on `taskQueue`; resolves once it polls. */
async function spawnWorker(stack: WardenStack, taskQueue: string) {
  const child = spawn(process.execPath, ['bin/warden.js', 'worker'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATABASE_URL: stack.scratch.databaseUrl,
      TEMPORAL_ADDRESS: stack.scratch.env.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      WARDEN_CODEC_KEYS: stack.config.WARDEN_CODEC_KEYS ?? '',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await eventually('the parked worker polling', async () => {
    if (child.exitCode !== null) throw new Error(`warden worker exited ${child.exitCode}:\n${output}`);
    return output.includes('"msg":"worker polling"') ? true : undefined;
  });
  return {
    pid: child.pid as number,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The RSS a `warden worker` process gains per incident left waiting on its tasks and SLA timers:
 * (RSS with `parked` open incidents − RSS polling with none) / `parked`. The incidents go to a task
 * queue of their own, served by that worker alone; afterwards every one of them must still be running.
 */
export const parkedBench: Bench = {
  name: 'parked',
  async measure(stack, { parked, concurrency }) {
    const taskQueue = uniqueId('bench-parked');
    const app = await buildServer(
      serverDeps({ ...stack.config, TEMPORAL_TASK_QUEUE: taskQueue }, { db: stack.db, temporal: { ...stack.temporal, taskQueue } }),
    );
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    const worker = await spawnWorker(stack, taskQueue).catch(async (error: unknown) => {
      await app.close();
      throw error;
    });
    try {
      const idle = await settledRss(worker.pid);
      const headers = { authorization: `Bearer ${stack.tokenOf(drivingReporter)}` };
      const ids = await inParallel(parked, concurrency, async (i) => {
        const created = await untilAvailable(stack.shed, () =>
          fetch(`${baseUrl}/incidents`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({
              title: `parked ${i}`,
              description: 'left waiting',
              category: 'malware',
              affectedCis: [stack.ciId],
              source: 'bench',
            }),
          }),
        );
        if (created.status !== 202) throw new Error(`POST /incidents answered ${created.status}: ${await created.text()}`);
        return ((await created.json()) as { id: string }).id;
      });
      // Parked means the workflow ran to its first wait: the acknowledge task is open.
      let waiting = 0;
      await eventually(
        'every parked incident waiting on its acknowledge task',
        async () => {
          const row = await stack.db
            .selectFrom('human_tasks')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('subject_id', 'in', ids)
            .where('kind', '=', 'incident.acknowledge')
            .where('status', '=', 'open')
            .executeTakeFirstOrThrow();
          waiting = Number(row.n);
          return waiting === parked ? true : undefined;
        },
        600_000,
        1_000,
      ).catch((error: unknown) => {
        // How far it got says whether the worker was slow or stuck.
        throw new Error(`${(error as Error).message} (${waiting} of ${parked} were)`);
      });
      const loaded = await settledRss(worker.pid);
      const client = stack.scratch.env.client;
      await eventually('every parked incident still running', async () => {
        const running = await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`);
        const ended = await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus != 'Running'`);
        if (ended.count > 0) throw new Error(`${ended.count} parked incidents ended (failed, terminated or timed out) while waiting`);
        return running.count === parked ? true : undefined;
      });
      process.stderr.write(`parked: worker RSS ${idle.toFixed(0)} MiB idle, ${loaded.toFixed(0)} MiB with ${parked} waiting\n`);
      return [
        {
          path: 'parked processes (worker RSS per open incident)',
          unit: 'MiB',
          warden: (loaded - idle) / parked,
          goal: { kind: 'at most', bound: 1.5 },
        },
      ];
    } finally {
      await worker.stop();
      await app.close();
    }
  },
};
