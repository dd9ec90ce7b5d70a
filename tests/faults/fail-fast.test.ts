import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/embedded-postgres';
import { startTemporalDevServer, type DevServerHandle } from '../../cli/dev-server';
import { requireTemporalCli } from '../../cli/temporal-cli';
import { createDb } from '../../db/create-db';
import { buildServer, type Server } from '../../server';
import { connectTemporalClient } from '../../temporal/connection';
import { serverDeps } from '../../wiring';
import { eventually, startStack, type Stack } from '../setup/stack';

// Findings 2 and 3 of issue #14: a PostgreSQL connection lost while checked out killed the process,
// and outages of PostgreSQL or Temporal answered 500 after about 20 s instead of a quick 503.

const silent = pino({ level: 'silent' });
let stack: Stack;
let adminToken: string;
const incident = { title: 'Beaconing host', description: 'x', category: 'malware', affectedCis: [], source: 'edr' };

beforeAll(async () => {
  stack = await startStack({ worker: false });
  adminToken = await stack.token(['admin', 'security_analyst']);
});
afterAll(() => stack?.close());

/** An API process's server, on its own pool to `databaseUrl`, with the stack's Temporal client unless given one. */
async function apiAgainst(
  databaseUrl: string,
  temporal = stack.temporal,
): Promise<{ app: Server; baseUrl: string; close(): Promise<void> }> {
  const handle = createDb(databaseUrl, silent);
  const app = await buildServer(serverDeps(stack.config, { db: handle.db, temporal }));
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    baseUrl,
    async close() {
      await app.close();
      await handle.close();
    },
  };
}

async function timed(url: string, init: RequestInit = {}) {
  const started = performance.now();
  const response = await fetch(url, init);
  const body = await response.text();
  return { response, body, ms: performance.now() - started };
}

function expectRetryableProblem(result: Awaited<ReturnType<typeof timed>>, dependency: string, withinMs: number) {
  expect(result.response.status, result.body).toBe(503);
  expect(result.response.headers.get('content-type')).toMatch(/application\/problem\+json/);
  expect(Number(result.response.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(JSON.parse(result.body)).toMatchObject({ status: 503, title: 'Service Unavailable' });
  expect(result.body).toContain(dependency);
  expect(result.ms).toBeLessThan(withinMs);
}

describe('a PostgreSQL connection lost while checked out', () => {
  it('fails the work that held it, not the process, and the pool serves the next request', async () => {
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    const handle = createDb(stack.databaseUrl, silent);
    try {
      // A transaction between two statements holds its client out of the pool: the pool's own
      // 'error' listener does not cover it, and PostgreSQL's 57P01 arrived as an unhandled 'error' event.
      const failed = await handle.db
        .connection()
        .execute(async (connection) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(connection);
          const pid = rows[0]?.pid;
          await sql`select pg_terminate_backend(${pid})`.execute(stack.db);
          // The FATAL message reaches the idle client before its next query.
          await eventually(async () => uncaught.length > 0 || (await isGone(pid)), 10_000, 'the backend to be terminated');
          await new Promise((resolve) => setImmediate(resolve));
          await sql`select 1`.execute(connection);
        })
        .then(
          () => undefined,
          (error: Error) => error,
        );
      expect(failed).toBeInstanceOf(Error);
      expect(uncaught).toEqual([]);
      const { rows } = await sql<{ ok: number }>`select 1 as ok`.execute(handle.db);
      expect(rows).toEqual([{ ok: 1 }]);
    } finally {
      process.off('uncaughtException', record);
      await handle.close();
    }
  });
});

async function isGone(pid: number | undefined) {
  const { rows } = await sql`select 1 from pg_stat_activity where pid = ${pid}`.execute(stack.db);
  return rows.length === 0;
}

describe('with PostgreSQL unreachable', () => {
  it('answers an API call 503 with Retry-After within 5 s, and /readyz 503 within 2 s', async () => {
    // Nothing listens on this port: every connection attempt is refused (ECONNREFUSED).
    const url = new URL(stack.databaseUrl);
    url.port = String(await freePort());
    const api = await apiAgainst(url.toString());
    try {
      const call = await timed(`${api.baseUrl}/incidents`, { headers: { authorization: `Bearer ${adminToken}` } });
      expectRetryableProblem(call, 'PostgreSQL', 5_000);
      const ready = await timed(`${api.baseUrl}/readyz`);
      expect(ready.response.status).toBe(503);
      expect(ready.body).toContain('postgres');
      expect(ready.ms).toBeLessThan(2_000);
      // The inbox says the same to a person: a page, not a 500, and when to try again.
      const page = await timed(`${api.baseUrl}/ui/tasks`, { headers: { cookie: 'warden_session=any' } });
      expect(page.response.status).toBe(503);
      expect(page.response.headers.get('content-type')).toMatch(/text\/html/);
      expect(Number(page.response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(page.body).toContain('PostgreSQL is unavailable at the moment');
      expect(page.ms).toBeLessThan(5_000);
    } finally {
      await api.close();
    }
  });

  it('answers 503 within 5 s when PostgreSQL accepts connections but never answers', async () => {
    // A hung server (or a full pool): the pool's connection timeout, not the client's patience, ends the wait.
    const sockets = new Set<Socket>();
    const hung: NetServer = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const url = new URL(stack.databaseUrl);
    url.port = String((hung.address() as { port: number }).port);
    const api = await apiAgainst(url.toString());
    try {
      const call = await timed(`${api.baseUrl}/incidents`, { headers: { authorization: `Bearer ${adminToken}` } });
      expectRetryableProblem(call, 'PostgreSQL', 5_000);
      const ready = await timed(`${api.baseUrl}/readyz`);
      expect(ready.response.status).toBe(503);
      expect(ready.ms).toBeLessThan(2_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      hung.close();
      await api.close();
    }
  });
});

describe('with the Temporal server down', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'warden-faults-temporal-'));
  let server: DevServerHandle | undefined;
  let start: () => Promise<DevServerHandle>;
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers POST /incidents 503 within 5 s and /readyz within 2 s, then recovers by itself when it is back', async () => {
    chmodSync(dataDir, 0o755);
    const cliPath = await requireTemporalCli(() => {});
    const [port, uiPort] = [await freePort(), await freePort()];
    start = () => startTemporalDevServer({ cliPath, dataDir, port, uiPort, codecEndpoint: 'http://127.0.0.1:1', logger: silent });
    server = await start();
    const temporal = await connectTemporalClient({ ...stackTemporal(), address: server.address });
    const api = await apiAgainst(stack.databaseUrl, temporal);
    const post = (key: string) =>
      timed(`${api.baseUrl}/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(incident),
      });
    try {
      expect((await post('before')).response.status).toBe(202);

      await server.stop();
      server = undefined;
      const during = await post('during');
      expectRetryableProblem(during, 'Temporal', 5_000);
      const ready = await timed(`${api.baseUrl}/readyz`);
      expect(ready.response.status).toBe(503);
      expect(ready.body).toContain('temporal');
      expect(ready.ms).toBeLessThan(2_000);

      // Same port, same database file: the client's channel reconnects without a restart of the API.
      server = await start();
      const after = await eventually(
        async () => {
          const result = await post('after');
          return result.response.status === 202 && result;
        },
        30_000,
        'POST /incidents to succeed after Temporal is back',
      );
      expect(JSON.parse(after.body)).toHaveProperty('id');
      expect((await timed(`${api.baseUrl}/readyz`)).response.status).toBe(200);
    } finally {
      await api.close();
      await temporal.close();
    }
  }, 180_000);
});

function stackTemporal() {
  return {
    address: stack.config.TEMPORAL_ADDRESS ?? '',
    namespace: stack.config.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
    codecKeys: stack.config.WARDEN_CODEC_KEYS ?? '',
  };
}
