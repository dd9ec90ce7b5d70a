import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../cli/embedded-postgres';
import { resolveTemporalCli } from '../../cli/temporal-cli';
import { loadConfig } from '../../config';
import { createDb } from '../../db/create-db';
import type { Database } from '../../db/database';
import { createToken } from '../../db/tokens';
import type { Role } from '../../domain/roles';
import { connectionOptions, createDataConverter } from '../../temporal/connection';
import { temporalConnectionSettings } from '../../wiring';
import { seedCi } from '../setup/fixtures';
import { startTemporalCluster, type TemporalCluster } from '../setup/cluster';
import { hardenedHeaders, startHttpServer, type LoopbackServer } from '../setup/loopback';
import { createDatabase, databaseUrl, dropDatabase } from '../setup/postgres';
import { eventually } from '../setup/stack';
import type { Kysely } from 'kysely';
import { linkPendingAudit } from '../../db/audit-linker';

// The production topology on one machine: a Temporal server (not the dev server) on PostgreSQL with
// mTLS, `warden temporal setup`, two `warden api` and two `warden worker` processes, and one of the
// workers killed with SIGKILL while the processes are in flight. Everything must finish, once.

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../..');
const wardenBin = path.join(repo, 'bin', 'warden.js');
const namespace = 'warden-cluster';
const say = (line: string) => console.log(`[cluster] ${line}`);

let cluster: TemporalCluster;
let checked: LoopbackServer;
let db: Kysely<Database>;
let closeDb: () => Promise<void>;
let database: string;
const processes = new Map<string, { child: ChildProcess; output: string[] }>();
const apis: string[] = [];
const tokens = {} as Record<'reporter' | 'analyst' | 'manager' | 'owner' | 'changeManager' | 'reviewer' | 'auditor', string>;
let env: Record<string, string>;

function startWarden(name: string, command: 'api' | 'worker', extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, [wardenBin, command], {
    env: { ...process.env, ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => output.push(line));
  processes.set(name, { child, output });
  say(`started ${name}: warden ${command} (pid ${child.pid})`);
  return child;
}

/** Round-robin over the API replicas, retrying what a load balancer's client would: 503s and refused connections. */
let next = 0;
async function request(method: string, url: string, token: string, body?: unknown): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const base = apis[next++ % apis.length];
    try {
      const response = await fetch(`${base}${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status !== 503 || Date.now() > deadline) return { status: response.status, body: text ? JSON.parse(text) : null };
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function openTasks(token: string, subjectId: string) {
  const response = await request('GET', `/tasks?status=open&subjectId=${subjectId}`, token);
  return (response.body.items ?? []) as { id: string; kind: string; title: string; allowedRoles: string[]; allowedOutcomes: string[] }[];
}

async function decideOpenTask(token: string, subjectId: string, kind: string, outcome: string, data?: Record<string, unknown>) {
  const task = await eventually(
    async () => (await openTasks(token, subjectId)).find((t) => t.kind === kind),
    60_000,
    `${kind} on ${subjectId}`,
  );
  const decided = await request('POST', `/tasks/${task.id}/decision`, token, { outcome, ...(data ? { data } : {}) });
  expect(decided.status, JSON.stringify(decided.body)).toBe(200);
  return task;
}

beforeAll(
  async () => {
    const adminUrl = inject('postgresAdminUrl');
    const suffix = randomBytes(3).toString('hex');
    cluster = await startTemporalCluster({ postgresAdminUrl: adminUrl, prefix: `${inject('databasePrefix')}c${suffix}_`, log: say });
    database = `${inject('databasePrefix')}cluster_${suffix}`;
    await createDatabase(adminUrl, database, inject('templateDatabase'));
    ({ db, close: closeDb } = createDb(databaseUrl(adminUrl, database)));
    checked = await startHttpServer((_request, response) => response.writeHead(200, hardenedHeaders).end());

    env = {
      ...cluster.clientEnv,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TASK_QUEUE: `cluster-${suffix}`,
      DATABASE_URL: databaseUrl(adminUrl, database),
      WARDEN_CODEC_KEYS: inject('codecKeys'),
      WARDEN_OUTBOUND_ALLOW: '127.0.0.0/8,::1',
      WARDEN_TEST_INTERVAL_FLOOR: '1s',
      WARDEN_RATE_LIMIT_PER_MINUTE: '100000',
      // Four processes beside the Temporal server's own connections and another test file's stack:
      // pools smaller than the defaults keep the run inside PostgreSQL's 100 connections.
      WARDEN_API_DB_POOL_SIZE: '5',
      WARDEN_WORKER_DB_POOL_SIZE: '8',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };

    // `warden temporal setup` over mTLS: the namespace and the Search Attributes, retried while the server starts.
    const setup = await eventually(
      () =>
        run(process.execPath, [wardenBin, 'temporal', 'setup'], { env: { ...process.env, ...env, LOG_LEVEL: 'info' } }).then(
          ({ stdout }) => stdout,
          () => undefined,
        ),
      90_000,
      `the Temporal server to answer \`warden temporal setup\`; its output:\n${cluster.recentOutput().join('\n')}`,
    );
    expect(setup).toMatch(/"namespaceRegistered":true/);
    say(`warden temporal setup: registered namespace ${namespace} and Warden's Search Attributes over mTLS`);

    for (const [name, roles] of [
      ['reporter', ['reporter']],
      ['analyst', ['security_analyst']],
      ['manager', ['security_manager']],
      ['owner', ['service_owner']],
      ['changeManager', ['change_manager']],
      ['reviewer', ['security_reviewer']],
      ['auditor', ['auditor']],
    ] as [keyof typeof tokens, Role[]][]) {
      tokens[name] = (await createToken(db, { name: `cluster-${name}`, principalId: `cluster-${name}`, roles }, 'cluster-test')).token;
    }

    for (const replica of ['api-1', 'api-2']) {
      const port = await freePort();
      startWarden(replica, 'api', { PORT: String(port) });
      apis.push(`http://127.0.0.1:${port}`);
    }
    startWarden('worker-1', 'worker');
    startWarden('worker-2', 'worker');
    for (const base of apis) {
      await eventually(
        () =>
          fetch(`${base}/readyz`).then(
            (r) => r.ok,
            () => false,
          ),
        120_000,
        `${base}/readyz`,
      );
    }
    say(`two API replicas ready at ${apis.join(' and ')}; two workers polling ${env.TEMPORAL_TASK_QUEUE}`);
  },
  // Building the server on a fresh machine takes about 10 minutes (once); CI builds it in an earlier step.
  20 * 60_000,
);

afterAll(async () => {
  for (const [name, { child, output }] of processes) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const trouble = output.filter((line) => /"level":(50|60)/.test(line));
    if (trouble.length > 0) say(`${name} logged errors:\n${trouble.slice(-5).join('\n')}`);
  }
  await checked?.close();
  await closeDb?.();
  if (database) await dropDatabase(inject('postgresAdminUrl'), database);
  await cluster?.stop();
}, 60_000);

describe('a secured Temporal cluster with two API and two worker processes', () => {
  it(
    'runs an incident through its approval, a change through the gate and a scheduled test across a worker killed mid-flight, each once',
    async () => {
      // A critical data leak (confidentiality high, +1 for a leak): its playbook needs the Security Manager's approval.
      const { ciId } = await seedCi(db, { level: 'high', owner: 'cluster-owner' });
      const reported = await request('POST', '/incidents', tokens.reporter, {
        title: 'Payroll export found on a file-sharing site',
        description: 'reported by the DPO',
        category: 'data_leak',
        affectedCis: [ciId],
        source: 'helpdesk',
      });
      expect(reported.status).toBe(202);
      const incidentId: string = reported.body.id;

      // Data handling on a low-classification CI: one security reviewer decides.
      const { ciId: lowCi } = await seedCi(db, { level: 'low', owner: 'cluster-owner' });
      const change = await request('POST', '/changes', tokens.changeManager, {
        title: 'Open the payroll export share to the auditors',
        description: 'read-only share for the year-end audit',
        affectedCis: [lowCi],
        securityImpact: { accessControls: false, networkConfiguration: false, dataHandling: true },
        plannedStart: new Date(Date.now() + 24 * 3_600_000).toISOString(),
        plannedEnd: new Date(Date.now() + 26 * 3_600_000).toISOString(),
        rollbackPlan: 'remove the share',
      });
      expect(change.status, JSON.stringify(change.body)).toBe(202);
      const changeId: string = change.body.id;

      const control = await request('POST', '/controls', tokens.manager, {
        name: `cluster headers ${Date.now()}`,
        owner: 'cluster-owner',
        kind: 'technical',
        process: 'security',
        procedure: { type: 'automated', check: 'http_security_headers', params: { url: checked.url } },
      });
      expect(control.status).toBe(201);
      const controlId: string = control.body.id;
      expect((await request('PUT', `/controls/${controlId}/schedule`, tokens.manager, { every: '2s' })).status).toBe(200);

      await decideOpenTask(tokens.analyst, incidentId, 'incident.acknowledge', 'acknowledged');
      await eventually(
        async () => (await request('GET', `/test-runs?controlId=${controlId}`, tokens.auditor)).body.items?.length >= 1,
        60_000,
        'a first scheduled run',
      );

      // Mid-flight: the incident waits for triage, the change for its reviewer, the schedule keeps firing.
      const victim = processes.get('worker-1')?.child;
      victim?.kill('SIGKILL');
      await new Promise((resolve) => victim?.once('exit', resolve));
      say(`killed worker-1 (pid ${victim?.pid}) with SIGKILL while the incident, the change and the schedule were in flight`);

      await decideOpenTask(tokens.analyst, incidentId, 'incident.triage', 'triaged', { scope: 'payroll export share' });
      await decideOpenTask(tokens.reviewer, changeId, 'change_security_review', 'approved');
      await decideOpenTask(tokens.manager, incidentId, 'incident.approval', 'approved');
      // Whatever else the playbook asks (tasks for the analyst, the owner, the review after the fact) until it closes.
      const closed = await eventually(
        async () => {
          const incident = (await request('GET', `/incidents/${incidentId}`, tokens.auditor)).body;
          if (incident.status === 'closed') return incident;
          for (const task of await openTasks(tokens.auditor, incidentId)) {
            const token = task.allowedRoles.includes('security_analyst') ? tokens.analyst : tokens.manager;
            // Containment no responder carried out is confirmed by a person, with evidence.
            const data =
              task.kind === 'incident.containment-confirmation' ? { evidence: 'sessions revoked in the IdP console' } : undefined;
            await request('POST', `/tasks/${task.id}/decision`, token, { outcome: task.allowedOutcomes[0], ...(data ? { data } : {}) });
          }
          return undefined;
        },
        120_000,
        'the incident to close',
      );
      expect(closed.severity).toBe('critical');

      expect((await request('POST', `/changes/${changeId}/implemented`, tokens.changeManager, {})).status).toBe(202);
      await eventually(
        async () => {
          const status = (await request('GET', `/changes/${changeId}`, tokens.reviewer)).body.status;
          return ['implemented', 'verified'].includes(status) && status;
        },
        60_000,
        'the change verified',
      );

      const runsAfterKill = await eventually(
        async () => {
          const items = (await request('GET', `/test-runs?controlId=${controlId}&limit=500`, tokens.auditor)).body.items as {
            workflowId: string;
            status: string;
            result: string;
          }[];
          const finished = items.filter((r) => r.status === 'finished');
          return finished.length >= 4 && items;
        },
        // Runs every 2 s on an idle machine; a loaded one (CI beside other work) was seen needing more than 60 s.
        120_000,
        'scheduled runs after the kill',
      );
      expect((await request('PUT', `/controls/${controlId}/schedule`, tokens.manager, { every: '2s', paused: true })).status).toBe(200);

      // Once: one row per business key, one audit event per step, one run per scheduled slot.
      expect(await db.selectFrom('incidents').select('id').where('id', '=', incidentId).execute()).toHaveLength(1);
      const duplicateTasks = await db
        .selectFrom('human_tasks')
        .select(['kind', 'title', sql<number>`count(*)::int`.as('count')])
        .where('subject_id', 'in', [incidentId, changeId])
        .groupBy(['kind', 'title'])
        .having(sql`count(*)`, '>', 1)
        .execute();
      expect(duplicateTasks).toEqual([]);
      const onceEvents = ['incident.registered', 'incident.acknowledged', 'incident.closed'];
      await linkPendingAudit(db);
      const events = await db
        .selectFrom('audit_events')
        .select(['action', sql<number>`count(*)::int`.as('count')])
        .where('subject_id', '=', incidentId)
        .where('action', 'in', onceEvents)
        .groupBy('action')
        .execute();
      expect(Object.fromEntries(events.map((e) => [e.action, e.count]))).toEqual(Object.fromEntries(onceEvents.map((a) => [a, 1])));
      const workflowIds = runsAfterKill.map((r) => r.workflowId);
      expect(new Set(workflowIds).size).toBe(workflowIds.length);
      expect(runsAfterKill.filter((r) => r.status === 'finished').every((r) => r.result === 'passed')).toBe(true);
      expect(await db.selectFrom('process_failures').select(['step', 'message']).execute()).toEqual([]);
      say(
        `incident ${incidentId} closed, change ${changeId} through the gate, ${workflowIds.length} scheduled runs: each once, no duplicates`,
      );

      // Temporal agrees: both workflows completed, and operators can find the critical incident.
      const settings = temporalConnectionSettings(loadConfig(env), 'for the test');
      const connection = await Connection.connect(connectionOptions(settings));
      try {
        // The memo is encrypted: describing needs the codec's keys, as every Warden process has them.
        const client = new Client({ connection, namespace, dataConverter: createDataConverter(inject('codecKeys')) });
        for (const workflowId of [reported.body.workflowId, change.body.workflowId]) {
          const described = await eventually(
            async () => {
              const d = await client.workflow.getHandle(workflowId).describe();
              return d.status.name === 'COMPLETED' && d;
            },
            60_000,
            `${workflowId} completed`,
          );
          expect(described.status.name).toBe('COMPLETED');
        }
      } finally {
        await connection.close();
      }
      const cli = await resolveTemporalCli();
      if (!cli) throw new Error('the cluster tier needs the Temporal CLI');
      const listed = await eventually(
        async () => {
          const { stdout } = await run(cli.path, [
            'workflow',
            'list',
            '--address',
            cluster.address,
            '--namespace',
            namespace,
            '--tls-ca-path',
            cluster.certificate('cluster-ca.pem'),
            '--tls-cert-path',
            cluster.certificate('warden.pem'),
            '--tls-key-path',
            cluster.certificate('warden.key'),
            '--tls-server-name',
            'temporal.test',
            '--query',
            'WardenSeverity="critical"',
          ]);
          return stdout.includes(reported.body.workflowId) && stdout;
        },
        30_000,
        'the critical incident listed by WardenSeverity',
      );
      say(`temporal workflow list --query 'WardenSeverity="critical"' on the cluster:\n${listed.trim()}`);
    },
    10 * 60_000,
  );

  it('refuses a client without a certificate from the cluster CA', async () => {
    const intruder = {
      ...env,
      TEMPORAL_TLS_CLIENT_CERT_PATH: cluster.certificate('intruder.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: cluster.certificate('intruder.key'),
    };
    await expect(run(process.execPath, [wardenBin, 'temporal', 'setup'], { env: { ...process.env, ...intruder } })).rejects.toThrow();
  });
});
