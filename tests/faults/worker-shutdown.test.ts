import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../config';
import { eventually, startStack, type Stack } from '../setup/stack';

// Issue #14, finding 9: a worker with stuck activities did not exit 15 s after SIGTERM.

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
let stack: Stack;
let token: string;

beforeAll(async () => {
  stack = await startStack({ worker: false });
  token = await stack.token(['security_analyst']);
});
afterAll(() => stack?.close());

describe('warden worker on SIGTERM', () => {
  it('exits within 15 s although an activity is stuck in PostgreSQL and ignores its cancellation', async () => {
    // None of the test run's own Warden settings may leak into the child.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in configSchema.shape)));
    const child = spawn(process.execPath, ['bin/warden.js', 'worker'], {
      cwd: repoRoot,
      env: {
        ...inherited,
        DATABASE_URL: stack.databaseUrl,
        TEMPORAL_ADDRESS: stack.config.TEMPORAL_ADDRESS,
        TEMPORAL_TASK_QUEUE: stack.config.TEMPORAL_TASK_QUEUE,
        WARDEN_CODEC_KEYS: stack.config.WARDEN_CODEC_KEYS,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));

    // The lock holder: every statement on `incidents`, registerIncident's first one included, waits for it.
    const locker = new pg.Client({ connectionString: stack.databaseUrl });
    locker.on('error', () => {}); // a lost connection fails the test's query, not the test run
    await locker.connect();
    try {
      await eventually(async () => output.includes('worker polling'), 90_000, `the worker to poll; its output:\n${output}`);
      await locker.query('begin');
      await locker.query('lock table incidents in access exclusive mode');
      const reported = await stack.request('POST', '/incidents', {
        token,
        body: { title: 'Beaconing host', description: 'x', category: 'malware', affectedCis: [], source: 'edr' },
      });
      expect(reported.status).toBe(202);
      await eventually(
        async () => {
          // Not on the locker: inside its transaction, pg_stat_activity would answer from one snapshot.
          const { rows } =
            await sql`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(stack.db);
          return rows.length > 0;
        },
        60_000,
        'registerIncident to wait on the lock',
      );

      const signalled = performance.now();
      child.kill('SIGTERM');
      const outcome = await Promise.race([
        exited,
        new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 30_000).unref()),
      ]);
      const seconds = (performance.now() - signalled) / 1000;
      console.log(`worker exited ${seconds.toFixed(1)} s after SIGTERM (${outcome})`);
      expect(outcome, output).not.toBe('still running');
      expect(seconds, output).toBeLessThan(15);
    } finally {
      child.kill('SIGKILL');
      await locker.query('rollback').catch(() => {});
      await locker.end();
    }
  }, 180_000);
});
