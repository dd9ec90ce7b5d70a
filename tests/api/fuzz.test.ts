import { afterAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { startStack } from '../setup/stack';
import { fuzzCases, runFuzz, writeRoutes } from '../../bench/fuzz-cases';

// `npm run fuzz` at a reduced size (FUZZ_MALFORMED / FUZZ_OVERSIZED raise it): issue #14, the proof
// that hostile input never reaches a 5xx, always gets a problem naming its field, and writes nothing.
const malformed = Number(process.env.FUZZ_MALFORMED ?? 600);
const oversized = Number(process.env.FUZZ_OVERSIZED ?? 60);
const seed = Number(process.env.FUZZ_SEED ?? 14);

const stack = await startStack({ worker: false });
afterAll(() => stack.close());

it(`answers ${malformed} malformed and ${oversized} oversized requests over every write route with 4xx problems, and writes nothing`, async () => {
  const token = await stack.token(['admin'], 'fuzzer');
  const openapi = (await stack.request('GET', '/openapi.json')).body;
  const routes = writeRoutes(openapi);
  expect(routes.length).toBeGreaterThan(40);
  const cases = fuzzCases(openapi, { malformed, oversized, bodyLimit: stack.config.WARDEN_BODY_LIMIT_BYTES, seed });
  // Every write route is exercised.
  expect(new Set(cases.map((c) => c.route)).size).toBe(routes.length);

  const outcome = await runFuzz({
    baseUrl: stack.baseUrl,
    token,
    cases,
    parallel: 4,
    countRows: async () => {
      const { rows } = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(stack.db);
      const counts: Record<string, number> = {};
      for (const { table_name: table } of rows) {
        counts[table] = (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(stack.db)).rows[0]?.n ?? -1;
      }
      return counts;
    },
  });
  console.log(`fuzz: ${outcome.cases} requests in ${outcome.seconds.toFixed(1)} s, statuses ${JSON.stringify(outcome.statuses)}`);
  expect(outcome.malformed).toBe(malformed);
  expect(outcome.oversized).toBe(oversized);
  expect(outcome.failures).toEqual([]);
  expect(outcome.changedTables).toEqual([]);
  expect(Object.keys(outcome.statuses).filter((status) => Number(status) >= 500)).toEqual([]);
}, 300_000);
