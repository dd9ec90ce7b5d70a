import type { WardenStack } from './harness';

/** How a path's Warden figure is judged: against its floor, or on its own. */
export type Goal =
  /** Throughput: Warden's rate over the floor's is at least `ratio`. */
  | { kind: 'share of floor'; ratio: number }
  /** Latency: Warden's time over the floor's is at most `ratio`. */
  | { kind: 'times floor'; ratio: number }
  /** Warden's figure on its own is at most `bound`. */
  | { kind: 'at most'; bound: number };

export const goalText = (goal: Goal, unit: string) =>
  goal.kind === 'share of floor' ? `ratio ≥ ${goal.ratio}` : goal.kind === 'times floor' ? `≤ ${goal.ratio}×` : `≤ ${goal.bound} ${unit}`;

/** Whether a path's median figures (and the median of its per-run ratios) meet its goal. */
export function goalMet(goal: Goal, warden: number, ratio: number | undefined): boolean {
  if (goal.kind === 'at most') return warden <= goal.bound;
  if (ratio === undefined) return false;
  return goal.kind === 'share of floor' ? ratio >= goal.ratio : ratio <= goal.ratio;
}

/** One measurement of a path in one run. */
export interface Figure {
  path: string;
  unit: string;
  warden: number;
  /** The bare floor, measured in the same run on the same servers; absent when the path has none. */
  floor?: number;
  goal: Goal;
  /** The machine's CPU per item (ms, every process), on each side, through all the work the items cause. */
  cpu?: { warden: number; floor: number };
}

/** How big each benchmark's workload is: `--name=value` or BENCH_NAME (e.g. --alerts=500, BENCH_ALERTS=500). */
export const fullSizes = {
  /** Incidents started per run, and how many at once. */
  starts: 200,
  concurrency: 20,
  /**
   * Decisions sampled, while `background` incidents progress: first with a person taking
   * `thinkSeconds` on average over each of their tasks, then decided as fast as Warden answers.
   */
  decisions: 100,
  background: 200,
  thinkSeconds: 60,
  /** SIEM alerts over `fingerprints` distinct fingerprints. */
  alerts: 10_000,
  fingerprints: 200,
  /** Seconds autocannon loads each list, with `connections` connections, over `listIncidents` incidents. */
  readSeconds: 10,
  connections: 50,
  listIncidents: 1000,
  /** Incidents left waiting on their tasks and SLA timers while the worker's memory is measured. */
  parked: 5000,
  /** Playbooks driven to the end. */
  playbooks: 50,
  /** Audited writes, by `auditWriters` writers at once. */
  auditWrites: 4000,
  auditWriters: 8,
};
export type Sizes = typeof fullSizes;

/**
 * `--quick`: every workload small, for a smoke run of about a minute on a quiet machine (worker start
 * excepted: it bundles the workflows once per run whatever the size).
 */
export const quickSizes: Sizes = {
  starts: 20,
  concurrency: 20,
  decisions: 10,
  background: 5,
  thinkSeconds: 2,
  alerts: 200,
  fingerprints: 20,
  readSeconds: 1,
  connections: 50,
  listIncidents: 100,
  parked: 50,
  playbooks: 20,
  auditWrites: 200,
  auditWriters: 8,
};

export interface Bench {
  name: string;
  /** Benchmarks that start their own servers (worker start) skip the shared Warden. */
  ownServers?: boolean;
  measure(stack: WardenStack, sizes: Sizes, run: { index: number; runs: number }): Promise<Figure[]>;
}
