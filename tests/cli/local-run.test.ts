import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../cli/embedded-postgres';
import { requireTemporalCli } from '../../cli/temporal-cli';
import { configSchema } from '../../config';
import { eventually } from '../setup/stack';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), 'warden-local-'));
// An embedded PostgreSQL runs as the postgres user when we are root: it must reach its folder.
chmodSync(dataDir, 0o755);
const adminToken = `wdn_local_run_${randomBytes(16).toString('hex')}`;

interface RunningWarden {
  output(): string;
  /** The exit code, or the signal that ended the process. */
  exited: Promise<number | string>;
  interrupt(): void;
}
const running = new Set<RunningWarden>();

// A failed assertion must not leave a Warden (and its PostgreSQL and Temporal) running.
afterAll(async () => {
  await Promise.all([...running].map(stopWarden));
  rmSync(dataDir, { recursive: true, force: true });
});

/** `node bin/warden.js start` with nothing but its data folder: no DATABASE_URL, no TEMPORAL_ADDRESS. */
async function startWarden(port: number): Promise<RunningWarden> {
  // None of the test run's own Warden settings may leak into the child.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !(key in configSchema.shape)));
  const child = spawn(process.execPath, ['bin/warden.js', 'start'], {
    cwd: repoRoot,
    env: {
      ...inherited,
      WARDEN_DATA_DIR: dataDir,
      PORT: String(port),
      WARDEN_ADMIN_TOKEN: adminToken,
      TEMPORAL_CLI: await requireTemporalCli(() => {}),
      // Seconds rather than the hour of a real run, so a signed checkpoint shows within the test.
      WARDEN_AUDIT_CHECKPOINT_INTERVAL: '1s',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const warden = { output: () => output, exited, interrupt: () => child.kill('SIGINT') };
  running.add(warden);
  void exited.then(() => running.delete(warden));
  return warden;
}

/** Polls until `check` holds, failing early, with the process output, if Warden exits meanwhile. */
async function whileRunning<T>(
  warden: RunningWarden,
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const exitedEarly = warden.exited.then((code) => {
    throw new Error(`warden start exited (${code}) while waiting for ${what}:\n${warden.output()}`);
  });
  return Promise.race([eventually(check, timeoutMs, what), exitedEarly]);
}

async function stopWarden(warden: RunningWarden): Promise<number | string> {
  warden.interrupt();
  const deadline = new Promise<string>((resolve) => setTimeout(() => resolve('still running 30 s after SIGINT'), 30_000).unref());
  return Promise.race([warden.exited, deadline]);
}

const api = (port: number, route: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${port}${route}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...init.headers } });

describe('warden start', () => {
  it('runs everything locally, stops cleanly on SIGINT, and keeps its data across a restart', { timeout: 180_000 }, async () => {
    const port = await freePort();

    const first = await startWarden(port);
    // The banner is printed once the API listens, which can be a moment after /readyz first answers.
    const ready = (warden: RunningWarden) => async () => warden.output().includes('Warden is running') && (await api(port, '/readyz')).ok;
    await whileRunning(first, ready(first), 'the first start to be ready');
    // The banner never repeats a secret the user supplied: it would land in their logs.
    expect(first.output()).toContain('Admin token   the one in WARDEN_ADMIN_TOKEN');
    expect(first.output()).not.toContain(adminToken);

    // The worker's SDK metrics are on by default in the local run.
    const workerMetrics = /Worker metrics (http:\S+)/.exec(first.output())?.[1];
    expect(workerMetrics, first.output()).toBeDefined();
    expect(await (await fetch(workerMetrics as string)).text()).toMatch(/^temporal_worker_start\{/m);

    // The banner names the inbox, and the root of the API leads there.
    const inbox = /Inbox\s+(http:\S+)/.exec(first.output())?.[1];
    expect(inbox).toBe(`http://127.0.0.1:${port}/ui/tasks`);
    const root = await api(port, '/', { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([303, '/ui/tasks']);

    const docs = await api(port, '/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    const openApi = await api(port, '/openapi.json');
    expect(openApi.status).toBe(200);
    expect(((await openApi.json()) as { openapi: string }).openapi).toMatch(/^3\./);

    const ping = await api(port, '/diagnostics/pings', { method: 'POST' });
    expect(ping.status).toBe(201);
    const { id: pingId } = (await ping.json()) as { id: string };

    const temporalUi = /Temporal UI\s+(http:\S+)/.exec(first.output())?.[1];
    expect(temporalUi, first.output()).toBeDefined();
    const ui = await whileRunning(first, async () => (await fetch(temporalUi as string).catch(() => undefined))?.status, 'the Temporal UI');
    expect(ui).toBe(200);

    // The audit signing key is generated into the data folder, private to its owner, and a worker
    // signs the chain head on the Schedule it set up: a checkpoint that verifies.
    const keyFile = path.join(dataDir, 'audit-signing-key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const signingKey = readFileSync(keyFile, 'utf8');
    const verified = await whileRunning(
      first,
      async () => {
        const body = (await (await api(port, '/audit/verify')).json()) as { valid: boolean; checkpoints: number };
        return body.checkpoints > 0 && body;
      },
      'a signed audit checkpoint',
    );
    expect(verified).toMatchObject({ valid: true });

    expect(await stopWarden(first), first.output()).toBe(0);

    const second = await startWarden(port);
    await whileRunning(second, ready(second), 'the second start to be ready');
    const readBack = await api(port, `/diagnostics/pings/${pingId}`);
    expect(readBack.status).toBe(200);
    expect(await readBack.json()).toMatchObject({ id: pingId, requestedBy: 'admin' });
    expect(second.output()).not.toContain('Admin token');
    expect(second.output()).not.toContain(adminToken);
    expect(readFileSync(keyFile, 'utf8')).toBe(signingKey);
    expect(await stopWarden(second), second.output()).toBe(0);
  });
});
