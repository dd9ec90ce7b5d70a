import autocannon from 'autocannon';
import type { Bench } from '../figures';
import { startBareServer, type WardenStack } from '../harness';
import { seedIncidentsWithTasks } from '../seed';
import { drivingManager } from '../task-driver';

const lists = ['/incidents', '/tasks'] as const;

/** Requests per second autocannon gets from `url` with `connections` connections; fails on any non-2xx answer. */
async function requestsPerSecond(url: string, headers: Record<string, string>, connections: number, seconds: number): Promise<number> {
  const result = await autocannon({ url, headers, connections, duration: seconds });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result.requests.average;
}

/** Seeds the lists once per suite: later runs find them there. */
let seeded = false;
async function seedOnce(stack: WardenStack, incidents: number) {
  if (seeded) return;
  await seedIncidentsWithTasks(stack.db, stack.ciId, { incidents, openTasks: Math.min(200, incidents) });
  seeded = true;
}

/**
 * GET /incidents and GET /tasks per second under autocannon, against bare Fastify + pg running the
 * very statements Warden sent for one such request (the token lookup too when the credential cache
 * is off, WARDEN_AUTH_CACHE_TTL=0s), recorded as they ran, and answering every row they read.
 */
export const readBench: Bench = {
  name: 'read',
  async measure(stack, { listIncidents, connections, readSeconds }) {
    await seedOnce(stack, listIncidents);
    const headers = { authorization: `Bearer ${stack.tokenOf(drivingManager)}` };
    const statements = new Map<string, Awaited<ReturnType<WardenStack['record']>>>();
    for (const list of lists) {
      // The second request's statements: the first looked the token up, which the next ones find cached.
      await stack.app.inject({ method: 'GET', url: list, headers });
      statements.set(list, await stack.record(() => stack.app.inject({ method: 'GET', url: list, headers })));
    }
    const bare = await startBareServer(stack.scratch.databaseUrl, (app, pool) => {
      for (const list of lists) {
        // Every statement's rows go out, as Warden's answer carries what each read (the incident page
        // and its SLA clocks): answering only the last one's sent the clocks alone for GET /incidents.
        app.get(list, async () => {
          const results: unknown[][] = [];
          for (const { sql, parameters } of statements.get(list) ?? []) results.push((await pool.query(sql, [...parameters])).rows);
          return { results };
        });
      }
    });
    try {
      const figures = [];
      for (const list of lists) {
        const warden = await requestsPerSecond(stack.baseUrl + list, headers, connections, readSeconds);
        const floor = await requestsPerSecond(bare.url + list, {}, connections, readSeconds);
        figures.push({
          path: `read GET ${list} (${connections} connections)`,
          unit: 'req/s',
          warden,
          floor,
          goal: { kind: 'share of floor' as const, ratio: 0.85 },
        });
      }
      return figures;
    } finally {
      await bare.close();
    }
  },
};
