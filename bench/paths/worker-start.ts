import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Bench } from '../figures';

const script = fileURLToPath(new URL('../worker-start.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The seconds of a `| <label> | <median> s (…) | <floor> s (…) |` row of bench/worker-start.ts's table. */
function secondsOf(table: string, label: string): { warden: number; floor: number } {
  const row = table.split('\n').find((line) => line.startsWith(`| ${label}`));
  const [warden, floor] = [...(row?.matchAll(/\| ([\d.]+) s/g) ?? [])].map((match) => Number(match[1]));
  if (warden === undefined || floor === undefined) throw new Error(`bench/worker-start.ts printed no "${label}" row:\n${table}`);
  return { warden, floor };
}

/**
 * `warden worker` from spawn to polling after `warden build` (compiled program and workflow bundle),
 * as bench/worker-start.ts measures it on servers of its own (one run of it per run of the suite);
 * its floor is a bare Temporal worker process loading the same bundle.
 */
export const workerStartBench: Bench = {
  name: 'worker-start',
  ownServers: true,
  async measure() {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], {
      cwd: repoRoot,
      env: { ...process.env, BENCH_RUNS: '1' },
      maxBuffer: 10 * 2 ** 20,
    });
    const { warden, floor } = secondsOf(stdout, 'after `warden build`');
    return [
      { path: 'worker start (spawn to polling, after warden build)', unit: 's', warden, floor, goal: { kind: 'at most', bound: 1.5 } },
    ];
  },
};
