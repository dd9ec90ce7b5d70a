import pino from 'pino';
import pg from 'pg';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { buildServer } from '../server';
import { loadConfig } from '../config';
import { createDb } from '../db/create-db';
import { createToken } from '../db/tokens';
import { generateCodecKeys } from '../temporal/codec';
import { connectTemporalClient } from '../temporal/connection';
import { prepareDatabase, serverDeps, temporalSettings } from '../wiring';
import { fuzzCases, type OpenApi, runFuzz, writeRoutes } from './fuzz-cases';
import { startScratchServices } from './scratch-services';

const malformed = Number(process.env.FUZZ_MALFORMED ?? 2000);
const oversized = Number(process.env.FUZZ_OVERSIZED ?? 200);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 100_000);
const parallel = Number(process.env.FUZZ_PARALLEL ?? 8);

Runtime.install({ logger: new DefaultLogger('WARN') });
const silent = pino({ level: 'silent' });

async function main(): Promise<number> {
  const scratch = await startScratchServices('fuzz');
  const { env, admin, database, databaseUrl } = scratch;

  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: 'fuzz',
    WARDEN_CODEC_KEYS: generateCodecKeys('fuzz'),
    WARDEN_RATE_LIMIT_PER_MINUTE: '1000000',
    LOG_LEVEL: 'silent',
  });
  const handle = createDb(databaseUrl, silent);
  try {
    await prepareDatabase(handle.db);
    const temporal = await connectTemporalClient(temporalSettings(config, 'for the fuzzer'));
    const app = await buildServer(serverDeps(config, { db: handle.db, temporal }));
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const token = (await createToken(handle.db, { name: 'fuzzer', principalId: 'fuzzer', roles: ['admin'] }, 'fuzz')).token;
      const openapi = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as OpenApi;
      const cases = fuzzCases(openapi, { malformed, oversized, bodyLimit: config.WARDEN_BODY_LIMIT_BYTES, seed });
      const countRows = async () => {
        const { rows } = await admin.query<{ table_name: string }>(
          `select table_name from information_schema.tables where table_catalog = $1 and table_schema = 'public' and table_type = 'BASE TABLE'`,
          [database],
        );
        const counts: Record<string, number> = {};
        const client = new pg.Client({ connectionString: databaseUrl });
        client.on('error', () => {}); // a lost connection fails the count, not the run
        await client.connect();
        for (const { table_name: table } of rows) {
          counts[table] = (await client.query<{ n: number }>(`select count(*)::int as n from "${table}"`)).rows[0]?.n ?? -1;
        }
        await client.end();
        return counts;
      };
      const outcome = await runFuzz({ baseUrl, token, cases, countRows, parallel });

      const routes = writeRoutes(openapi).length;
      console.log(
        `\nWarden fuzz (seed ${seed}): ${outcome.malformed} malformed + ${outcome.oversized} oversized requests over ${routes} write routes in ${outcome.seconds.toFixed(1)} s\n`,
      );
      console.table(Object.fromEntries(Object.entries(outcome.statuses).map(([status, count]) => [status, { requests: count }])));
      const kinds = new Map<string, number>();
      for (const fuzzCase of cases) kinds.set(fuzzCase.kind, (kinds.get(fuzzCase.kind) ?? 0) + 1);
      console.log(
        `${kinds.size} kinds of fault; ${outcome.failures.length} wrong answers; tables changed: ${outcome.changedTables.join(', ') || 'none'}`,
      );
      for (const failure of outcome.failures.slice(0, 50))
        console.log(`  ${failure.status} ${failure.case}: ${failure.reason}\n      ${failure.answer}`);
      const server5xx = Object.entries(outcome.statuses).filter(([status]) => Number(status) >= 500);
      return outcome.failures.length || outcome.changedTables.length || server5xx.length ? 1 : 0;
    } finally {
      await app.close();
      await temporal.close();
    }
  } finally {
    await handle.close();
    await scratch.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
