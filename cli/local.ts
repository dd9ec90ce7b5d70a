import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config';
import { generateAuditSigningKey, parseAuditSigningKey } from '../db/audit-checkpoints';
import type { Database } from '../db/database';
import { configuredTemporalAddress, prepareDatabase } from '../wiring';
import { createToken, hasAnyToken } from '../db/tokens';
import { systemActor } from '../domain/roles';
import { generateCodecKeys, parseCodecKeys } from '../temporal/codec';
import { temporalUiPath } from '../web/temporal-ui';
import { startTemporalDevServer } from './dev-server';
import { embeddedPostgresUrl, freePort, startEmbeddedPostgres } from './embedded-postgres';
import { CliError } from './errors';
import type { Lifetime } from './lifetime';
import { connectTemporal, openDatabase, requireServiceSettings, setupTemporal, startApi, startWorker } from './services';
import { requireTemporalCli } from './temporal-cli';
import { inboxPath } from '../web/page';

const localDatabase = 'warden';

/** Ports chosen on the first start and kept, so URLs and bookmarks stay valid across restarts. */
interface LocalState {
  postgresPort?: number;
  temporalPort?: number;
  temporalUiPort?: number;
  workerMetricsPort?: number;
}

const statePath = (dataDir: string) => path.join(dataDir, 'local.json');

function readLocalState(dataDir: string): LocalState {
  const file = statePath(dataDir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalState) : {};
}

/** The remembered port for `key`, choosing and recording a free one the first time. */
async function rememberedPort(dataDir: string, key: keyof LocalState): Promise<number> {
  const state = readLocalState(dataDir);
  const remembered = state[key];
  if (remembered) return remembered;
  const taken = new Set(Object.values(state));
  let port = await freePort();
  while (taken.has(port)) port = await freePort();
  writeFileSync(statePath(dataDir), `${JSON.stringify({ ...state, [key]: port }, null, 2)}\n`);
  return port;
}

/**
 * The database `warden migrate` and `warden token create` work on: DATABASE_URL, or else the one a
 * `warden start` with the same data folder is running.
 */
export async function resolveDatabaseUrl(config: Config): Promise<string> {
  if (config.DATABASE_URL) return config.DATABASE_URL;
  const dataDir = path.resolve(config.WARDEN_DATA_DIR);
  const port = readLocalState(dataDir).postgresPort;
  if (!port) throw new ConfigError(`DATABASE_URL must be set: ${dataDir} holds no local Warden database (\`warden start\` creates one)`);
  const url = embeddedPostgresUrl(port, localDatabase);
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  // A connection lost while this short-lived client is open fails its query; without a listener the
  // 'error' event would take the process down instead.
  probe.on('error', () => {});
  try {
    await probe.connect();
  } catch (error) {
    throw new CliError(
      `the local PostgreSQL of ${dataDir} (port ${port}) does not answer (${(error as Error).message}): ` +
        'run `warden start` in another terminal, or set DATABASE_URL',
    );
  } finally {
    await probe.end().catch(() => {});
  }
  return url;
}

/**
 * `warden start`: PostgreSQL, a Temporal dev server, the worker and the API in one process, with
 * everything they keep under WARDEN_DATA_DIR. DATABASE_URL, TEMPORAL_ADDRESS and WARDEN_CODEC_KEYS,
 * when set, replace the local piece they name.
 */
export async function startLocal(config: Config, logger: Logger, lifetime: Lifetime): Promise<void> {
  const dataDir = path.resolve(config.WARDEN_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  // PORT=0 asks for any free port, but the Temporal UI must be told the codec endpoint before it starts.
  const port = config.PORT || (await freePort());
  const apiUrl = (config.WARDEN_PUBLIC_URL ?? `http://${browsableHost(config.HOST)}:${port}`).replace(/\/+$/, '');

  const databaseUrl = config.DATABASE_URL ?? (await startLocalPostgres(dataDir, logger, lifetime));
  const temporalUi = configuredTemporalAddress(config) ? undefined : await startLocalTemporal(dataDir, `${apiUrl}/codec`, logger, lifetime);
  const localConfig: Config = {
    ...config,
    // Its own dev server listens in plaintext on loopback: no profile, TLS or API key applies to it.
    ...(temporalUi ? plaintextTemporal(temporalUi.address) : {}),
    PORT: port,
    DATABASE_URL: databaseUrl,
    WARDEN_CODEC_KEYS: config.WARDEN_CODEC_KEYS ?? localCodecKeys(dataDir),
    // One process holds both halves locally; production keeps the private key with the workers.
    WARDEN_AUDIT_SIGNING_KEY: config.WARDEN_AUDIT_SIGNING_KEY ?? localAuditSigningKey(dataDir),
    // The UI asks the API to decode payloads from the browser, so the codec endpoint's CORS must admit it.
    WARDEN_TEMPORAL_UI_ORIGIN: config.WARDEN_TEMPORAL_UI_ORIGIN ?? temporalUi?.url,
    // Served by the API behind the inbox session, where the UI's codec calls carry it and decode.
    WARDEN_TEMPORAL_UI_UPSTREAM: config.WARDEN_TEMPORAL_UI_UPSTREAM ?? temporalUi?.url,
    // The worker's task slots, poll and schedule-to-start latencies are worth seeing from the first run.
    WARDEN_WORKER_METRICS_ADDRESS:
      config.WARDEN_WORKER_METRICS_ADDRESS ?? `127.0.0.1:${await rememberedPort(dataDir, 'workerMetricsPort')}`,
  };
  const settings = requireServiceSettings(localConfig, 'start');

  const db = openDatabase(settings.databaseUrl, logger, lifetime, { for: 'api', config: localConfig });
  const applied = await prepareDatabase(db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'migrated the database');
  // The namespace and Warden's Search Attributes: workflows that upsert an unknown attribute fail their tasks.
  await setupTemporal(settings.temporal, logger);
  const temporal = await connectTemporal(settings.temporal, lifetime);
  const workerDb = openDatabase(settings.databaseUrl, logger, lifetime, { for: 'worker', config: localConfig });
  await startWorker({ config: localConfig, db: workerDb, logger, lifetime });
  await startApi({ config: localConfig, db, temporal, logger, lifetime });
  // Last, so that a start-up failure cannot swallow a token that is printed only once.
  const bootstrapToken = await createBootstrapToken(db, config);

  const lines = [
    '',
    'Warden is running. Ctrl-C stops it; data stays in the data folder.',
    `  Inbox         ${apiUrl}${inboxPath}   (sign in with a token${config.WARDEN_OIDC_ISSUER ? ' or your organisation account' : ''})`,
    `  API           ${apiUrl}`,
    `  API docs      ${apiUrl}/docs`,
    `  Temporal UI   ${temporalUi ? `${apiUrl}${temporalUiPath}/ (signed in: decoded payloads)` : `(your Temporal at ${settings.temporal.address})`}`,
    `  Worker metrics http://${localConfig.WARDEN_WORKER_METRICS_ADDRESS}/metrics`,
    `  Data folder   ${dataDir}`,
    ...bootstrapTokenLines(bootstrapToken, config),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * The first start's admin token, printed once; never a token the user supplied in
 * WARDEN_ADMIN_TOKEN, which they have already and which would otherwise land in their logs.
 */
function bootstrapTokenLines(token: string | undefined, config: Config): string[] {
  if (!token) return [];
  if (config.WARDEN_ADMIN_TOKEN) return ['  Admin token   the one in WARDEN_ADMIN_TOKEN'];
  return [`  Admin token   ${token}`, '                (printed this once: keep it; `warden token create` makes more)'];
}

function plaintextTemporal(address: string): Partial<Config> {
  return {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_CONFIG_FILE: undefined,
    TEMPORAL_PROFILE: undefined,
    TEMPORAL_API_KEY: undefined,
    TEMPORAL_TLS: undefined,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: undefined,
    TEMPORAL_TLS_SERVER_NAME: undefined,
    TEMPORAL_TLS_CLIENT_CERT_PATH: undefined,
    TEMPORAL_TLS_CLIENT_KEY_PATH: undefined,
  };
}

function browsableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

async function startLocalPostgres(dataDir: string, logger: Logger, lifetime: Lifetime): Promise<string> {
  const port = await rememberedPort(dataDir, 'postgresPort');
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(dataDir, 'postgres'),
    port,
    onLog: (message) => logger.debug({ component: 'postgres' }, message.trimEnd()),
  });
  lifetime.add('the embedded PostgreSQL', postgres.stop);
  const admin = new pg.Client({ connectionString: postgres.adminUrl });
  // As for the probe above: a lost connection fails the query, never the process.
  admin.on('error', () => {});
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [localDatabase]);
    if (rowCount === 0) await admin.query(`create database ${localDatabase}`);
  } finally {
    await admin.end();
  }
  logger.info({ port }, 'embedded PostgreSQL running');
  return embeddedPostgresUrl(port, localDatabase);
}

async function startLocalTemporal(dataDir: string, codecEndpoint: string, logger: Logger, lifetime: Lifetime) {
  const cliPath = await requireTemporalCli((message) => logger.info(message), ', or set TEMPORAL_ADDRESS to use a Temporal you run');
  const server = await startTemporalDevServer({
    cliPath,
    dataDir,
    port: await rememberedPort(dataDir, 'temporalPort'),
    uiPort: await rememberedPort(dataDir, 'temporalUiPort'),
    codecEndpoint,
    uiPublicPath: temporalUiPath,
    logger,
  });
  lifetime.add('the Temporal dev server', server.stop);
  logger.info({ address: server.address, cli: cliPath }, 'Temporal dev server running');
  return { address: server.address, url: server.uiUrl };
}

/** The payload keys of this data folder: generated once, readable by its owner only. */
function localCodecKeys(dataDir: string): string {
  const file = path.join(dataDir, 'codec-keys');
  if (!existsSync(file)) writeFileSync(file, `${generateCodecKeys()}\n`, { mode: 0o600, flag: 'wx' });
  const keys = readFileSync(file, 'utf8').trim();
  try {
    parseCodecKeys(keys);
  } catch (error) {
    throw new CliError(`${file} does not hold valid codec keys (${(error as Error).message})`);
  }
  return keys;
}

/** The audit checkpoint signing key of this data folder: generated once, readable by its owner only. */
function localAuditSigningKey(dataDir: string): string {
  const file = path.join(dataDir, 'audit-signing-key');
  if (!existsSync(file)) writeFileSync(file, `${generateAuditSigningKey()}\n`, { mode: 0o600, flag: 'wx' });
  const key = readFileSync(file, 'utf8').trim();
  try {
    parseAuditSigningKey(key);
  } catch (error) {
    throw new CliError(`${file} does not hold a valid audit signing key (${(error as Error).message})`);
  }
  return key;
}

/** WARDEN_AUDIT_SIGNING_KEY, or else the key a `warden start` with the same data folder generated. */
export function readAuditSigningKey(config: Config): string {
  if (config.WARDEN_AUDIT_SIGNING_KEY) return config.WARDEN_AUDIT_SIGNING_KEY;
  const file = path.join(path.resolve(config.WARDEN_DATA_DIR), 'audit-signing-key');
  if (!existsSync(file))
    throw new ConfigError(`WARDEN_AUDIT_SIGNING_KEY must be set: ${file} does not exist (\`warden start\` creates it)`);
  return readFileSync(file, 'utf8').trim();
}

/** On the first start only: an admin token, so there is someone to create the other tokens. */
async function createBootstrapToken(db: Kysely<Database>, config: Config): Promise<string | undefined> {
  if (await hasAnyToken(db)) return undefined;
  const created = await createToken(
    db,
    { name: 'bootstrap admin', principalId: 'admin', displayName: 'Administrator', roles: ['admin'], token: config.WARDEN_ADMIN_TOKEN },
    systemActor.principalId,
  );
  return created.token;
}
