/**
 * Prints the render time (p50, p95) of the inbox's busiest pages as a person sees them: My tasks
 * with 200 open tasks, and the incident list over 1,000 incidents. The rows are written straight
 * into a scratch database (no workflows: the pages read PostgreSQL only). Run: npx tsx bench/inbox-pages.ts
 */
import { loadConfig } from '../config';
import { createDb } from '../db/create-db';
import { createToken } from '../db/tokens';
import { generateCodecKeys } from '../temporal/codec';
import { connectTemporalClient } from '../temporal/connection';
import { buildServer } from '../server';
import { prepareDatabase, serverDeps, temporalSettings } from '../wiring';
import { seedServiceWithCi, startScratchServices } from './scratch-services';
import { seedIncidentsWithTasks } from './seed';
import { percentile } from './harness';

const openTasks = Number(process.env.BENCH_TASKS ?? 200);
const incidents = Number(process.env.BENCH_INCIDENTS ?? 1000);
const renders = Number(process.env.BENCH_RENDERS ?? 50);

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
    await seedIncidentsWithTasks(db, ci.id, { incidents, openTasks });

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
