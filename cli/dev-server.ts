import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { wardenSearchAttributes } from '../domain/search-attributes';
import { CliError } from './errors';

export interface DevServerHandle {
  /** host:port of the gRPC frontend, for TEMPORAL_ADDRESS. */
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

const host = '127.0.0.1';
// The first start creates the SQLite schema; on a busy two-core machine that takes a while.
const startTimeoutMs = 60_000;
// Stopping usually takes about three seconds (the server drains its own system workers).
const stopTimeoutMs = 15_000;
const rememberedOutputLines = 20;

/**
 * Runs `temporal server start-dev` with its state in `dataDir/temporal.db`, so workflows survive a
 * restart, and resolves once its gRPC port accepts connections.
 */
type ServerLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';
const serverLevels: Record<string, ServerLogLevel> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
  DPANIC: 'fatal',
  PANIC: 'fatal',
  FATAL: 'fatal',
};

/**
 * A line of the dev server's JSON log (`--log-format json`: time, level, msg and the server's own
 * fields) as a pino call takes it: the server's level, its message, and its fields beside ours
 * rather than as text inside `msg`. The server's time is kept as `serverTime`. Anything else (the
 * CLI's banner) is not a log line: undefined.
 */
export function temporalServerLogLine(line: string): { level: ServerLogLevel; msg: string; fields: Record<string, unknown> } | undefined {
  if (!line.startsWith('{')) return undefined;
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  const { time, level, msg, ...fields } = entry as Record<string, unknown>;
  return {
    level: serverLevels[String(level).toUpperCase()] ?? 'warn',
    msg: typeof msg === 'string' ? msg : '',
    fields: { ...fields, ...(typeof time === 'string' ? { serverTime: time } : {}) },
  };
}

export async function startTemporalDevServer(options: {
  cliPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
  codecEndpoint: string;
  /** Where the UI's pages live (default `/`); `warden start` serves them under the same path on its own origin. */
  uiPublicPath?: string;
  logger: Logger;
}): Promise<DevServerHandle> {
  const { logger } = options;
  // Otherwise the wait below would mistake whatever holds the port for the server just started.
  if (await accepts(options.port)) {
    throw new CliError(
      `port ${options.port} for the Temporal dev server is taken: is another \`warden start\` with this data folder still running?`,
    );
  }
  const child = spawn(
    options.cliPath,
    [
      'server',
      'start-dev',
      '--db-filename',
      path.join(options.dataDir, 'temporal.db'),
      '--ip',
      host,
      '--port',
      String(options.port),
      '--ui-port',
      String(options.uiPort),
      // Write-ahead logging lets the UI's reads proceed while the server writes.
      '--sqlite-pragma',
      'journal_mode=wal',
      '--ui-codec-endpoint',
      options.codecEndpoint,
      '--ui-public-path',
      options.uiPublicPath ?? '/',
      // Every dev server Warden starts knows the attributes its workflows publish (`warden temporal setup` does the same for any server).
      ...Object.values(wardenSearchAttributes).flatMap(({ name, type }) => ['--search-attribute', `${name}=${type}`]),
      '--log-level',
      'warn',
      // One JSON object a line, parsed into fields and levels (temporalServerLogLine).
      '--log-format',
      'json',
    ],
    // Ctrl-C in a terminal signals the whole foreground process group; in a group of its own the
    // server keeps running until the worker has drained and Warden stops it.
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );

  let stopping = false;
  const recentOutput: string[] = [];
  const forward = (stream: NodeJS.ReadableStream, level: 'debug' | 'warn') => {
    createInterface({ input: stream }).on('line', (line) => {
      recentOutput.push(line);
      if (recentOutput.length > rememberedOutputLines) recentOutput.shift();
      const parsed = temporalServerLogLine(line);
      // While it stops, the server warns about every connection it closes: noise, not news.
      const lineLevel = stopping ? 'debug' : (parsed?.level ?? level);
      if (parsed) logger[lineLevel]({ component: 'temporal-dev-server', ...parsed.fields }, parsed.msg);
      else logger[lineLevel]({ component: 'temporal-dev-server' }, line);
    });
  };
  forward(child.stdout, 'debug');
  forward(child.stderr, 'warn');

  // A last resort when Warden exits before it has stopped the server: a detached server would
  // otherwise outlive it.
  const killOnExit = () => child.kill('SIGTERM');
  process.on('exit', killOnExit);

  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  }).then((outcome) => {
    exited = true;
    process.off('exit', killOnExit);
    return outcome;
  });

  const stop = async () => {
    if (exited) return;
    stopping = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    await exit;
    clearTimeout(timer);
  };

  try {
    await waitForPort(options.port, () => exited);
  } catch {
    const diedOnItsOwn = exited;
    await stop();
    const { code, signal, error } = await exit;
    if (error) throw new CliError(`could not run the Temporal CLI ${options.cliPath}: ${error.message}`);
    const outcome = diedOnItsOwn
      ? `exited (${signal ?? `code ${code}`}) before answering on ${host}:${options.port}`
      : `did not answer on ${host}:${options.port} within ${startTimeoutMs / 1000} s`;
    throw new CliError(`the Temporal dev server ${outcome}; its last output:\n${recentOutput.join('\n')}`);
  }
  return { address: `${host}:${options.port}`, uiUrl: `http://${host}:${options.uiPort}`, stop };
}

async function waitForPort(port: number, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (!(await accepts(port))) {
    if (gaveUp() || Date.now() > deadline) throw new Error(`port ${port} did not open`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
