import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { CliError } from './errors';
import { cacheRoot, findGo, goInstall, isExecutable } from './temporal-cli';

// The server Warden's cluster tier runs: its SQL tool creates the PostgreSQL schemas it needs.
export const temporalServerVersion = 'v1.29.1';
const serverModule = 'go.temporal.io/server';
const packages = [`${serverModule}/cmd/server@${temporalServerVersion}`, `${serverModule}/cmd/tools/sql@${temporalServerVersion}`];

export interface TemporalServerBuild {
  /** The server binary (`start`, with a config folder). */
  server: string;
  /** temporal-sql-tool: creates databases and applies the versioned schemas. */
  sql: string;
  /** The PostgreSQL 12+ schemas in the server's Go module: `temporal/versioned` and `visibility/versioned`. */
  postgresSchemaDir: string;
}

/**
 * The Temporal server and its SQL tool, built once with `go install` into Warden's cache beside
 * the CLI (about 10 minutes on two cores, then instant), and the schema folder of the same
 * version from Go's module cache. Throws with what to do when there is no Go.
 */
export async function requireTemporalServer(
  log: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<TemporalServerBuild> {
  const go = findGo();
  const gobin = path.join(cacheRoot(), 'warden', `temporal-server-${temporalServerVersion}`);
  const server = path.join(gobin, 'server');
  const sql = path.join(gobin, 'sql');
  if (!go) throw new CliError(`building the Temporal server ${temporalServerVersion} needs Go (https://go.dev/dl/)`);
  if (!isExecutable(server) || !isExecutable(sql)) {
    log(
      `warden: building the Temporal server and SQL tool ${temporalServerVersion} with go install into ${gobin} (about 10 minutes, once)…`,
    );
    await goInstall(packages, gobin);
  }
  // The module is in Go's cache after the build; `download` only fetches it if the cache was cleaned since.
  const { stdout } = await promisify(execFile)(go, ['mod', 'download', '-json', `${serverModule}@${temporalServerVersion}`], {
    env: { ...process.env, GOFLAGS: '-mod=mod' },
  });
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  return { server, sql, postgresSchemaDir: path.join(moduleDir, 'schema', 'postgresql', 'v12') };
}
