/**
 * The benchmark suite: each hot path's Warden figure against its bare floor measured in the same run
 * on the same servers. `npm run bench` runs every benchmark, `npm run bench -- decision audit` the
 * ones named. Flags: --runs=N (default 3; each figure is the median of N runs, with min and max),
 * --quick (small workloads: a smoke run of about a minute), --write (the table and the machine into
 * docs/performance.md), and any workload size of figures.ts as --name=value or BENCH_NAME.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { resolveTemporalCli } from '../cli/temporal-cli';
import { type Bench, type Figure, fullSizes, goalMet, goalText, quickSizes, type Sizes } from './figures';
import { startWardenStack, type WardenStack } from './harness';
import { alertStormBench } from './paths/alert-storm';
import { auditBench } from './paths/audit';
import { decisionBench } from './paths/decision';
import { incidentStartBench } from './paths/incident-start';
import { parkedBench } from './paths/parked';
import { playbookBench } from './paths/playbook';
import { readBench } from './paths/read';
import { workerStartBench } from './paths/worker-start';

const benches: Bench[] = [
  incidentStartBench,
  decisionBench,
  alertStormBench,
  readBench,
  parkedBench,
  workerStartBench,
  playbookBench,
  auditBench,
];

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

function parseArguments(argv: string[]) {
  const flags = new Map<string, string>();
  const names: string[] = [];
  for (const argument of argv) {
    const flag = /^--([a-z-]+)(?:=(.*))?$/.exec(argument);
    if (flag) flags.set(flag[1] as string, flag[2] ?? 'true');
    else names.push(argument);
  }
  const sizes: Sizes = { ...(flags.has('quick') ? quickSizes : fullSizes) };
  for (const key of Object.keys(sizes) as (keyof Sizes)[]) {
    const given = flags.get(kebab(key)) ?? process.env[`BENCH_${snake(key)}`];
    if (given !== undefined) {
      const value = Number(given);
      if (!Number.isInteger(value) || value < 1) throw new Error(`--${kebab(key)} must be a whole number ≥ 1, not ${given}`);
      sizes[key] = value;
    }
  }
  const known = new Set(['runs', 'quick', 'write', ...Object.keys(sizes).map(kebab)]);
  const unknownFlag = [...flags.keys()].find((flag) => !known.has(flag));
  if (unknownFlag) throw new Error(`unknown flag --${unknownFlag}; flags: ${[...known].map((f) => `--${f}`).join(' ')}`);
  const unknownName = names.find((name) => !benches.some((b) => b.name === name));
  if (unknownName) throw new Error(`no benchmark "${unknownName}"; benchmarks: ${benches.map((b) => b.name).join(', ')}`);
  const runs = Number(flags.get('runs') ?? process.env.BENCH_RUNS ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a whole number ≥ 1`);
  return { selected: names.length ? benches.filter((b) => names.includes(b.name)) : benches, sizes, runs, write: flags.has('write') };
}

interface Summary {
  median: number;
  min: number;
  max: number;
}
function summary(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN,
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

const number = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2));
const spread = ({ median, min, max }: Summary, unit: string) => `${number(median)} ${unit} (${number(min)}–${number(max)})`;

/** One markdown row per path: medians of its runs with min–max, the median per-run ratio, the goal. */
function tableOf(figures: Map<string, Figure[]>, failures: Map<string, string>): string {
  const lines = ['| path | Warden | bare floor, same run | ratio | goal | met? |', '|---|---|---|---|---|---|'];
  for (const [path, runs] of figures) {
    const first = runs[0] as Figure;
    const warden = summary(runs.map((f) => f.warden));
    const floors = runs.flatMap((f) => (f.floor === undefined ? [] : [f.floor]));
    const ratios = runs.flatMap((f) => (f.floor ? [f.warden / f.floor] : []));
    const ratio = ratios.length ? summary(ratios) : undefined;
    const timesFloor = first.goal.kind === 'times floor' ? '×' : '';
    lines.push(
      `| ${path} | ${spread(warden, first.unit)} | ${floors.length ? spread(summary(floors), first.unit) : '—'} | ${
        ratio ? `${number(ratio.median)}${timesFloor} (${number(ratio.min)}–${number(ratio.max)})` : '—'
      } | ${goalText(first.goal, first.unit)} | ${goalMet(first.goal, warden.median, ratio?.median) ? 'yes' : 'no'} |`,
    );
  }
  for (const [name, problem] of failures)
    lines.push(`| ${name} | failed: ${problem.replaceAll('|', '\\|').replaceAll('\n', ' ')} | | | | no |`);
  return lines.join('\n');
}

/**
 * The machine's CPU per item for the paths that count it, every process included: the steadier
 * figure when the rates move with the machine. Where each side's work ends with its requests (the
 * alert storm), the floor's CPU over Warden's is about as high as the throughput ratio can go on a
 * machine the two saturate.
 */
function cpuTableOf(figures: Map<string, Figure[]>): string {
  const counted = [...figures].filter(([, runs]) => runs.every((f) => f.cpu));
  if (counted.length === 0) return '';
  const lines = [
    'Machine CPU per item (every process, through the work each item causes):',
    '',
    '| path | Warden | bare floor | floor over Warden |',
    '|---|---|---|---|',
  ];
  for (const [path, runs] of counted) {
    const cpu = runs.map((f) => f.cpu as NonNullable<Figure['cpu']>);
    const share = summary(cpu.map((c) => c.floor / c.warden));
    lines.push(
      `| ${path} | ${spread(summary(cpu.map((c) => c.warden)), 'ms')} | ${spread(summary(cpu.map((c) => c.floor)), 'ms')} | ${number(
        share.median,
      )} (${number(share.min)}–${number(share.max)}) |`,
    );
  }
  return `${lines.join('\n')}\n\n`;
}

/** The 503s Warden answered under the load, retried after their Retry-After (the figures include the wait). */
function shedLine(shed: Map<string, number>): string {
  if (shed.size === 0) return '';
  const counts = [...shed].map(([name, count]) => `${name} ${count}`).join(', ');
  return `Answers 503 (PostgreSQL or Temporal too busy), retried after their Retry-After, the wait included in the figures: ${counts}.\n\n`;
}

async function machine(stack: WardenStack | undefined): Promise<string> {
  const cli = await resolveTemporalCli();
  const temporal = cli ? execFileSync(cli.path, ['--version'], { encoding: 'utf8' }).trim() : 'the SDK’s downloaded dev server';
  const postgres = stack
    ? String((await sql<{ v: string }>`select current_setting('server_version') as v`.execute(stack.db)).rows[0]?.v)
    : 'not used by this run';
  const cpu = cpus();
  return [
    `- CPU: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores`,
    `- RAM: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- Node ${process.version}; PostgreSQL ${postgres}; ${temporal} (dev server, SQLite in memory)`,
  ].join('\n');
}

async function main() {
  const { selected, sizes, runs, write } = parseArguments(process.argv.slice(2));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stack = selected.some((b) => !b.ownServers) ? await startWardenStack() : undefined;
  const figures = new Map<string, Figure[]>();
  const failures = new Map<string, string>();
  const shed = new Map<string, number>();
  try {
    for (const bench of selected) {
      const unavailableBefore = stack?.shed.unavailable ?? 0;
      for (let index = 0; index < runs; index++) {
        process.stderr.write(`${bench.name}: run ${index + 1} of ${runs}\n`);
        try {
          for (const figure of await bench.measure(stack as WardenStack, sizes, { index, runs })) {
            figures.set(figure.path, [...(figures.get(figure.path) ?? []), figure]);
          }
        } catch (error) {
          failures.set(bench.name, (error as Error).message);
          process.stderr.write(`${bench.name} failed: ${(error as Error).stack}\n`);
          break;
        }
      }
      const unavailable = (stack?.shed.unavailable ?? 0) - unavailableBefore;
      if (unavailable > 0) shed.set(bench.name, unavailable);
    }
    const sizesLine = Object.entries(sizes)
      .map(([key, value]) => `${kebab(key)}=${value}`)
      .join(' ');
    const report =
      `Median of ${runs} runs (min–max), each path beside its floor measured in the same run on the same servers.\n\n` +
      `${tableOf(figures, failures)}\n\n${cpuTableOf(figures)}${shedLine(shed)}Workload: ${sizesLine}\n\n${await machine(stack)}\n`;
    process.stdout.write(`\n${report}`);
    if (write) {
      const path = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
      writeFileSync(path, withLatestRun(existsSync(path) ? readFileSync(path, 'utf8') : undefined, report));
      process.stderr.write(`wrote ${path}\n`);
    }
  } finally {
    await stack?.close();
  }
  if (failures.size) process.exitCode = 1;
}

const latestRun = { start: '<!-- npm run bench -- --write: from here -->', end: '<!-- npm run bench -- --write: to here -->' };

/** docs/performance.md with the latest run between its markers; the prose around them is kept as written. */
function withLatestRun(document: string | undefined, report: string): string {
  const section = `${latestRun.start}\n\nRun on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.\n\n${report}\n${latestRun.end}`;
  const [start, end] = [document?.indexOf(latestRun.start) ?? -1, document?.indexOf(latestRun.end) ?? -1];
  if (document && start >= 0 && end > start) return document.slice(0, start) + section + document.slice(end + latestRun.end.length);
  return `# Performance\n\n${section}\n`;
}

await main();
