import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import pino from 'pino';
import { startTemporalDevServer, type DevServerHandle } from '../cli/dev-server';
import { embeddedPostgresUrl, freePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../cli/embedded-postgres';
import { requireTemporalCli } from '../cli/temporal-cli';
import { configSchema } from '../config';
import { linkPendingAudit } from '../db/audit-linker';
import { createDb } from '../db/create-db';
import { createToken } from '../db/tokens';
import { generateCodecKeys } from '../temporal/codec';
import { connectTemporalClient } from '../temporal/connection';
import { prepareDatabase } from '../wiring';
import { seedServiceWithCi } from './scratch-services';
import { decideForward, drivingManager, drivingOwner, drivingPrincipals, drivingReporter, type OpenTask } from './task-driver';

// `npm run chaos`: a whole Warden (one API, two workers, a Temporal dev server and a PostgreSQL, all
// started here) drives incidents to their human tasks while workers are killed with SIGKILL, the
// Temporal server restarts and PostgreSQL restarts; then every task is decided through the API.
// It prints what must be zero (stuck or failed workflows, duplicates, 5xx other than 503, crashed
// processes) and how long the system took to recover. CHAOS_INCIDENTS sets the number of incidents.

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const silent = pino({ level: 'silent' });

export interface ChaosOptions {
  incidents: number;
  /** How many times a worker is killed with SIGKILL (alternating between the two). */
  workerKills: number;
  /** How long, after the faults, deciding every task may take. */
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  incidents: number;
  workflows: { completed: number; stuck: number; failed: number };
  duplicateRows: number;
  duplicateNotifications: number;
  duplicateDecisionAudits: number;
  /** Answers of 500 or above other than 503, and requests the API did not answer at all. */
  serverErrors: number;
  networkErrors: number;
  /** 503s while a dependency was away: expected, and retried. */
  unavailable: number;
  /** Processes (API, workers) that exited without being told to. */
  crashedProcesses: number;
  decisions: number;
  /** Seconds from each dependency being back to the API answering through it again. */
  recoverySeconds: Record<string, number>;
  faults: string[];
  durationSeconds: number;
}

interface Managed {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
  stop(signal: NodeJS.Signals): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const output = options.log ?? (() => {});
  const log = (line: string) => output(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
  const started = performance.now();
  const scratch = mkdtempSync(path.join(tmpdir(), 'warden-chaos-'));
  // An embedded PostgreSQL runs as the postgres user when we are root: it must reach its folder.
  chmodSync(scratch, 0o755);
  const report: ChaosReport = {
    incidents: options.incidents,
    workflows: { completed: 0, stuck: 0, failed: 0 },
    duplicateRows: 0,
    duplicateNotifications: 0,
    duplicateDecisionAudits: 0,
    serverErrors: 0,
    networkErrors: 0,
    unavailable: 0,
    crashedProcesses: 0,
    decisions: 0,
    recoverySeconds: {},
    faults: [],
    durationSeconds: 0,
  };
  const processes = new Set<Managed>();
  const cleanups: (() => Promise<void>)[] = [];

  try {
    // PostgreSQL and Temporal, each on a fixed port with its data on disk, so a restart keeps state.
    const pgDir = path.join(scratch, 'postgres');
    const pgPort = await freePort();
    let postgres: EmbeddedPostgresHandle | undefined = await startEmbeddedPostgres({ dataDir: pgDir, port: pgPort });
    cleanups.push(async () => postgres?.stop());
    const databaseUrl = embeddedPostgresUrl(pgPort);

    const cliPath = await requireTemporalCli(log);
    const [temporalPort, uiPort] = [await freePort(), await freePort()];
    const startTemporal = () =>
      startTemporalDevServer({
        cliPath,
        dataDir: scratch,
        port: temporalPort,
        uiPort,
        codecEndpoint: 'http://127.0.0.1:1',
        logger: silent,
      });
    let temporal: DevServerHandle | undefined = await startTemporal();
    cleanups.push(async () => temporal?.stop());

    const codecKeys = generateCodecKeys('chaos');
    const setup = createDb(databaseUrl, silent);
    await prepareDatabase(setup.db);
    const tokens = new Map<string, string>();
    for (const { id, roles } of drivingPrincipals) {
      tokens.set(id, (await createToken(setup.db, { name: id, principalId: id, roles }, 'chaos')).token);
    }
    const ci = await seedServiceWithCi(setup.db, { service: 'chaos-payments', ci: 'chaos-payments-db', owner: drivingOwner });
    await setup.close();
    const token = (id: string) => tokens.get(id) ?? '';

    // The processes under test, as production runs them.
    const apiPort = await freePort();
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in configSchema.shape)));
    const env = {
      ...inherited,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      WARDEN_CODEC_KEYS: codecKeys,
      LOG_LEVEL: 'warn',
    };
    const spawnWarden = (name: string, command: 'api' | 'worker', extra: Record<string, string> = {}): Managed => {
      const child = spawn(process.execPath, ['bin/warden.js', command], {
        cwd: repoRoot,
        env: { ...env, ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-20_000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      let told = false;
      const exited = new Promise<void>((resolve) =>
        child.once('exit', (code, signal) => {
          processes.delete(managed);
          if (!told) {
            report.crashedProcesses += 1;
            log(`${name} exited on its own (${signal ?? code}):\n${output.slice(-4000)}`);
          }
          resolve();
        }),
      );
      const managed: Managed = {
        name,
        child,
        output: () => output,
        exited,
        async stop(signal) {
          told = true;
          child.kill(signal);
          await exited;
        },
      };
      processes.add(managed);
      return managed;
    };
    spawnWarden('api', 'api', { PORT: String(apiPort), HOST: '127.0.0.1', WARDEN_RATE_LIMIT_PER_MINUTE: '1000000' });
    // At info level a worker says when it polls, which is when it is up.
    const workerEnv = { LOG_LEVEL: 'info' };
    const workers = [spawnWarden('worker-1', 'worker', workerEnv), spawnWarden('worker-2', 'worker', workerEnv)];
    const baseUrl = `http://127.0.0.1:${apiPort}`;

    /** One API call, retried while the API says 503 (a dependency is away) or cannot be reached. */
    const call = async (method: string, route: string, as: string, body?: unknown, headers: Record<string, string> = {}) => {
      for (;;) {
        let response: Response;
        try {
          response = await fetch(baseUrl + route, {
            method,
            headers: { authorization: `Bearer ${token(as)}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
            body: body ? JSON.stringify(body) : undefined,
            signal: AbortSignal.timeout(30_000),
          });
        } catch (error) {
          report.networkErrors += 1;
          log(`${method} ${route}: ${(error as Error).message}`);
          await sleep(500);
          continue;
        }
        const text = await response.text();
        if (response.status === 503) {
          report.unavailable += 1;
          await sleep(500);
          continue;
        }
        if (response.status >= 500) {
          report.serverErrors += 1;
          log(`${method} ${route}: ${response.status} ${text}`);
          await sleep(500);
          continue;
        }
        return { status: response.status, body: text ? JSON.parse(text) : undefined };
      }
    };
    const waitReady = async (what: string, since: number) => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const ready = await fetch(`${baseUrl}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
        // Readiness is not enough: a real request must come back through the dependency.
        if (ready && (await call('GET', '/tasks?status=open', drivingManager)).status === 200) break;
        if (Date.now() > deadline) throw new Error(`the API did not recover after ${what}`);
        await sleep(100);
      }
      report.recoverySeconds[what] = Number(((performance.now() - since) / 1000).toFixed(2));
    };
    await waitReady('start', performance.now());
    // Both workers poll once they have bundled the workflows.
    for (const worker of workers) {
      const deadline = Date.now() + 120_000;
      while (!worker.output().includes('worker polling') && Date.now() < deadline) await sleep(200);
    }
    log('API and two workers are up');

    // Incidents arrive throughout the faults.
    const incidentIds: string[] = [];
    const reportIncidents = (async () => {
      for (let i = 0; i < options.incidents; i++) {
        const created = await call(
          'POST',
          '/incidents',
          drivingReporter,
          {
            title: `Chaos incident ${i}`,
            description: 'raised by npm run chaos',
            category: 'malware',
            affectedCis: [ci.id],
            source: 'chaos',
          },
          { 'idempotency-key': `chaos-${i}` },
        );
        if (created.status !== 202) throw new Error(`POST /incidents answered ${created.status}: ${JSON.stringify(created.body)}`);
        incidentIds.push(created.body.id);
        await sleep(Math.max(200, 12_000 / options.incidents));
      }
    })();

    // Traffic that meets every outage: a task list and an incident list, over and over.
    let faultsOver = false;
    const probe = (async () => {
      while (!faultsOver) {
        await call('GET', '/tasks?status=open', drivingManager);
        await call('GET', '/incidents', drivingManager);
        await sleep(100);
      }
    })();

    // The faults, one after another while incidents arrive.
    for (let kill = 0; kill < options.workerKills; kill++) {
      const index = kill % workers.length;
      await sleep(1500);
      await workers[index]?.stop('SIGKILL');
      report.faults.push(`SIGKILL worker-${index + 1}`);
      workers[index] = spawnWarden(`worker-${index + 1}`, 'worker', workerEnv);
    }
    await sleep(1000);
    await temporal.stop();
    temporal = undefined;
    report.faults.push('Temporal dev server stopped');
    await sleep(2000);
    temporal = await startTemporal();
    const temporalBack = performance.now();
    report.faults.push('Temporal dev server restarted');
    await waitReady('Temporal restart', temporalBack);

    await postgres.stop();
    postgres = undefined;
    report.faults.push('PostgreSQL stopped');
    await sleep(2000);
    postgres = await startEmbeddedPostgres({ dataDir: pgDir, port: pgPort });
    const postgresBack = performance.now();
    report.faults.push('PostgreSQL restarted');
    await waitReady('PostgreSQL restart', postgresBack);
    faultsOver = true;
    await probe;
    await reportIncidents;
    log(`${incidentIds.length} incidents reported; deciding every task`);

    // Decide every task through the API until every incident is closed.
    const open = new Set(incidentIds);
    const settleDeadline = Date.now() + (options.settleTimeoutMs ?? 300_000);
    while (open.size > 0 && Date.now() < settleDeadline) {
      for (const id of [...open]) {
        const incident = await call('GET', `/incidents/${id}`, drivingManager);
        if (incident.status === 200 && String(incident.body.status).startsWith('closed')) {
          open.delete(id);
          continue;
        }
        const tasks = await call('GET', `/tasks?status=open&subjectId=${id}`, drivingManager);
        for (const task of tasks.body?.items ?? []) await decideTask(task);
      }
      if (open.size > 0) await sleep(300);
    }

    for (const id of open) {
      const incident = await call('GET', `/incidents/${id}`, drivingManager);
      const tasks = await call('GET', `/tasks?status=open&subjectId=${id}`, drivingManager);
      log(
        `still open: incident ${id} (${incident.body?.status}), open tasks ${JSON.stringify(tasks.body?.items?.map((t: { kind: string; allowedRoles: string[]; allowedOutcomes: string[]; decisions: unknown[] }) => [t.kind, t.allowedRoles, t.allowedOutcomes, t.decisions]))}`,
      );
    }

    async function decideTask(task: OpenTask) {
      report.decisions += await decideForward(task, call, { comment: 'chaos', unexpected: log });
    }

    // What the run left behind.
    const client = await connectTemporalClient({ address: env.TEMPORAL_ADDRESS, namespace: 'default', taskQueue: 'warden', codecKeys });
    for (const id of incidentIds) {
      const description = await client.client.workflow.getHandle(`incident/${id}`).describe();
      if (description.status.name === 'COMPLETED') report.workflows.completed += 1;
      else if (description.status.name === 'RUNNING') report.workflows.stuck += 1;
      else report.workflows.failed += 1;
    }
    await client.close();
    const check = createDb(databaseUrl, silent);
    try {
      const count = async (query: ReturnType<typeof sql<{ n: number }>>) => Number((await query.execute(check.db)).rows[0]?.n ?? 0);
      report.duplicateRows =
        (await count(sql`select greatest(count(*) - count(distinct id), 0)::int as n from incidents`)) +
        Math.max(0, (await count(sql`select count(*)::int as n from incidents`)) - options.incidents) +
        (await count(
          sql`select coalesce(sum(c - 1), 0)::int as n from (select count(*) as c from human_tasks group by workflow_id, kind, title having count(*) > 1) d`,
        )) +
        (await count(
          sql`select coalesce(sum(c - 1), 0)::int as n from (select count(*) as c from incident_steps group by incident_id, step_id, status having count(*) > 1) d`,
        ));
      report.duplicateNotifications = await count(
        sql`select coalesce(sum(c - 1), 0)::int as n from (select count(*) as c from notifications group by subject_id, title, body, task_id having count(*) > 1) d`,
      );
      // Events a killed process committed but never linked count too.
      await linkPendingAudit(check.db);
      report.duplicateDecisionAudits = await count(
        sql`select coalesce(sum(c - 1), 0)::int as n from (select count(*) as c from audit_events
              where action in ('task.decided', 'task.approval_recorded') group by details->>'taskId', actor having count(*) > 1) d`,
      );
    } finally {
      await check.close();
    }
  } finally {
    for (const managed of [...processes]) await managed.stop('SIGTERM');
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    rmSync(scratch, { recursive: true, force: true });
  }
  report.durationSeconds = Number(((performance.now() - started) / 1000).toFixed(1));
  return report;
}

/** The figures that must be zero for the run to pass. */
export function chaosFailures(report: ChaosReport): string[] {
  const must = {
    'workflows stuck': report.workflows.stuck,
    'workflows failed': report.workflows.failed,
    'duplicate rows': report.duplicateRows,
    'duplicate notifications': report.duplicateNotifications,
    'duplicate audit events per decision': report.duplicateDecisionAudits,
    '5xx other than 503': report.serverErrors,
    'requests not answered': report.networkErrors,
    'processes that crashed': report.crashedProcesses,
  };
  return Object.entries(must)
    .filter(([, value]) => value !== 0)
    .map(([name, value]) => `${name}: ${value}`);
}

function print(report: ChaosReport) {
  const lines = [
    `faults: ${report.faults.join('; ')}`,
    `incidents                              ${report.incidents}`,
    `workflows completed / stuck / failed   ${report.workflows.completed} / ${report.workflows.stuck} / ${report.workflows.failed}`,
    `decisions made through the API         ${report.decisions}`,
    `duplicate rows                         ${report.duplicateRows}`,
    `duplicate notifications                ${report.duplicateNotifications}`,
    `duplicate audit events per decision    ${report.duplicateDecisionAudits}`,
    `5xx other than 503 during outages      ${report.serverErrors}`,
    `requests not answered                  ${report.networkErrors}`,
    `503 (retried) during outages           ${report.unavailable}`,
    `processes that crashed                 ${report.crashedProcesses}`,
    ...Object.entries(report.recoverySeconds).map(([what, s]) => `${`time to recover, ${what}`.padEnd(39)}${s} s`),
    `duration                               ${report.durationSeconds} s`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const incidents = Number(process.env.CHAOS_INCIDENTS ?? 20);
  const report = await runChaos({
    incidents,
    workerKills: Number(process.env.CHAOS_WORKER_KILLS ?? 4),
    settleTimeoutMs: Number(process.env.CHAOS_SETTLE_SECONDS ?? 300) * 1000,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  print(report);
  const failures = chaosFailures(report);
  if (failures.length) process.stderr.write(`chaos: not zero: ${failures.join(', ')}\n`);
  process.exit(failures.length ? 1 : 0);
}
