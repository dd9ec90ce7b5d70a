/**
 * The benchmark suite: each hot path's Warden figure against its bare floor measured in the same run
 * on the same servers. `npm run bench` runs every benchmark, `npm run bench -- decision audit` the
 * ones named. Flags: --runs=N (default 3; each figure is the median of N runs, with min and max),
 * --quick (small workloads: a smoke run of about a minute), --write (the table and the machine into
 * docs/performance.md), and any workload size of figures.ts as --name=value or BENCH_NAME.
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
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
  try {
    for (const bench of selected) {
      for (let index = 0; index < runs; index++) {
        process.stderr.write(`${bench.name}: run ${index + 1} of ${runs}\n`);
        try {
          for (const figure of await bench.measure(stack as WardenStack, sizes, { index, runs })) {
            figures.set(figure.path, [...(figures.get(figure.path) ?? []), figure]);
          }
        } catch (error) {
          failures.set(bench.name, (error as Error).message);
          break;
        }
      }
    }
    const sizesLine = Object.entries(sizes)
      .map(([key, value]) => `${kebab(key)}=${value}`)
      .join(' ');
    const report =
      `Median of ${runs} runs (min–max), each path beside its floor measured in the same run on the same servers.\n\n` +
      `${tableOf(figures, failures)}\n\nWorkload: ${sizesLine}\n\n${await machine(stack)}\n`;
    process.stdout.write(`\n${report}`);
    if (write) {
      const path = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
      writeFileSync(path, performanceDoc(report));
      process.stderr.write(`wrote ${path}\n`);
    }
  } finally {
    await stack?.close();
  }
  if (failures.size) process.exitCode = 1;
}

function performanceDoc(report: string): string {
  return `# Performance

Written by \`npm run bench -- --write\` (bench/suite.ts) on ${new Date().toISOString().slice(0, 10)}. Every
path is measured against its bare floor: the same work done by the bare tool (Temporal client,
Fastify and pg) in the same run on the same servers, so the ratio says what Warden costs on top.
What each path does and why each floor is the fair one is in the header of its file under
\`bench/paths/\`. Rerun the suite on a quiet machine before comparing figures: on a shared one they
move with the neighbours' load.

${report}`;
}

await main();
