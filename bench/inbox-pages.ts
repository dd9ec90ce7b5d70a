/**
 * Prints the render time (p50, p95) of the inbox's busiest pages as a person sees them: My tasks
 * with 200 open tasks, and the incident list over 1,000 incidents. The rows are written straight
 * into a scratch database (no workflows: the pages read PostgreSQL only). Run: npx tsx bench/inbox-pages.ts
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config';
import { createDb, json } from '../db/create-db';
import { createToken } from '../db/tokens';
import { generateCodecKeys } from '../temporal/codec';
import { connectTemporalClient } from '../temporal/connection';
import { buildServer } from '../server';
import { prepareDatabase, serverDeps, temporalSettings } from '../wiring';
import { seedServiceWithCi, startScratchServices } from './scratch-services';

const openTasks = Number(process.env.BENCH_TASKS ?? 200);
const incidents = Number(process.env.BENCH_INCIDENTS ?? 1000);
const renders = Number(process.env.BENCH_RENDERS ?? 50);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main() {
  const scratch = await startScratchServices('inbox_bench');
  const config = loadConfig({
    DATABASE_URL: scratch.databaseUrl,
    TEMPORAL_ADDRESS: scratch.env.address,
    WARDEN_CODEC_KEYS: generateCodecKeys('bench'),
    WARDEN_RATE_LIMIT_PER_MINUTE: '100000',
  });
  const handle = createDb(scratch.databaseUrl);
  const { db } = handle;
  await prepareDatabase(db);
  const temporal = await connectTemporalClient(temporalSettings(config, 'for the inbox benchmark'));
  const app = await buildServer(serverDeps(config, { db, temporal }));
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const ci = await seedServiceWithCi(db, { service: 'Payroll', ci: 'payroll-db', owner: 'sam' });
    const now = Date.now();
    const incidentRows = Array.from({ length: incidents }, (_, i) => {
      const id = randomUUID();
      return {
        id,
        workflow_id: `incident/${id}`,
        title: `Suspicious sign-in ${i}`,
        description: 'seeded for the benchmark',
        category: 'unauthorised_access',
        severity: ['low', 'medium', 'high', 'critical'][i % 4] as string,
        security_incident: true,
        classification_reason: 'seeded',
        status: i % 3 ? 'triaged' : 'closed',
        affected_cis: [ci.id],
        source: 'bench',
        drill: false,
        reported_by: 'rita',
        playbook_category: 'unauthorised_access',
        playbook_version: 1,
        links: json([]),
        acknowledge_target: '15m',
        resolve_target: '4h',
        reported_at: new Date(now - i * 60_000),
      };
    });
    for (let i = 0; i < incidentRows.length; i += 500)
      await db
        .insertInto('incidents')
        .values(incidentRows.slice(i, i + 500))
        .execute();
    await db
      .insertInto('human_tasks')
      .values(
        incidentRows.slice(0, openTasks).map((incident, i) => ({
          id: randomUUID(),
          workflow_id: incident.workflow_id,
          kind: i % 2 ? 'incident.triage' : 'incident.acknowledge',
          subject_type: 'incident',
          subject_id: incident.id,
          title: `Task ${i} of ${incident.title}`,
          details: json(i % 2 ? { category: 'unauthorised_access', affectedCis: [ci.id] } : {}),
          allowed_roles: ['security_analyst'],
          assignees: [],
          allowed_outcomes: i % 2 ? ['triaged'] : ['acknowledged'],
          requester: null,
          forbid_self_decision: false,
          approvals_required: 1,
          approve_outcome: null,
          status: 'open' as const,
          deadline_at: new Date(now + (i - 20) * 60_000),
          decisions: json([]),
        })),
      )
      .execute();

    const { token } = await createToken(db, { name: 'ana', principalId: 'ana', roles: ['security_analyst'] }, 'bench');
    const signIn = await fetch(`${baseUrl}/ui/sign-in`);
    const csrfCookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await signIn.text())?.[1] ?? '';
    const signedIn = await fetch(`${baseUrl}/ui/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie.join('; ') },
      body: new URLSearchParams({ _csrf: csrf, token }).toString(),
    });
    const session = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]);
    const cookie = [...csrfCookie, ...session].join('; ');

    for (const [name, path] of [
      [`My tasks (${openTasks} open tasks)`, '/ui/tasks'],
      [`Incident list (${incidents} incidents)`, '/ui/incidents'],
    ] as const) {
      const samples: number[] = [];
      let bytes = 0;
      for (let i = 0; i < renders + 3; i++) {
        const start = performance.now();
        const response = await fetch(baseUrl + path, { headers: { cookie } });
        const body = await response.text();
        if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
        // The first few warm the connection pool and the JIT.
        if (i >= 3) samples.push(performance.now() - start);
        bytes = body.length;
      }
      console.log(
        `${name}: p50 ${percentile(samples, 50).toFixed(1)} ms, p95 ${percentile(samples, 95).toFixed(1)} ms, ${(bytes / 1024).toFixed(0)} KB, ${renders} renders`,
      );
    }
  } finally {
    await app.close();
    await temporal.close();
    await handle.close();
    await scratch.close();
  }
}

await main();
