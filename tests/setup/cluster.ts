import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { requireTemporalServer } from '../../cli/temporal-server';
import { certificateMaker } from './certificates';
import { dropDatabase } from './postgres';

const run = promisify(execFile);

export interface TemporalCluster {
  /** host:port of the frontend, which requires a client certificate signed by the cluster's CA. */
  address: string;
  /** TEMPORAL_TLS_* for a client holding the `warden` certificate. */
  clientEnv: Record<string, string>;
  /** Certificate files by name (`cluster-ca.pem`, `intruder.pem`, …). */
  certificate(name: string): string;
  /** The server's last lines of output, for a failure message. */
  recentOutput(): string[];
  stop(): Promise<void>;
}

const serverName = 'temporal.test';

/**
 * A real Temporal server v1.29.1, as production runs it: persistence and visibility on PostgreSQL
 * (schemas created by its own SQL tool from the server module's versioned files), every service in
 * one process, and mTLS on both the frontend and between the services, with a CA and certificates
 * made here. Unlike the dev server, nothing in it is in-memory or SQLite.
 */
export async function startTemporalCluster(options: {
  postgresAdminUrl: string;
  prefix: string;
  log: (line: string) => void;
}): Promise<TemporalCluster> {
  const build = await requireTemporalServer(options.log);
  const dir = mkdtempSync(path.join(tmpdir(), 'warden-cluster-'));
  const certs = certificateMaker(dir);
  certs.ca('cluster-ca');
  certs.ca('other-ca');
  const serverExtensions = `subjectAltName=DNS:${serverName},DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth`;
  certs.leaf('frontend', 'cluster-ca', serverExtensions);
  certs.leaf('internode', 'cluster-ca', serverExtensions);
  certs.leaf('warden', 'cluster-ca', 'extendedKeyUsage=clientAuth');
  certs.leaf('intruder', 'other-ca', 'extendedKeyUsage=clientAuth');

  // The SQL tool: its own databases, schemas at the server's version.
  const admin = new URL(options.postgresAdminUrl);
  const databases = { default: `${options.prefix}temporal`, visibility: `${options.prefix}temporal_visibility` };
  const sqlTool = (database: string, ...args: string[]) =>
    run(
      build.sql,
      [
        '--plugin',
        'postgres12',
        '--ep',
        admin.hostname,
        '-p',
        admin.port || '5432',
        '-u',
        admin.username || 'postgres',
        '--db',
        database,
        ...args,
      ],
      {
        env: { ...process.env, SQL_PASSWORD: decodeURIComponent(admin.password) },
      },
    );
  for (const [store, database] of Object.entries(databases)) {
    await sqlTool(database, 'create-database');
    await sqlTool(database, 'setup-schema', '-v', '0.0');
    await sqlTool(
      database,
      'update-schema',
      '-d',
      path.join(build.postgresSchemaDir, store === 'default' ? 'temporal' : 'visibility', 'versioned'),
    );
  }

  // Membership ports are stored in a smallint column: the kernel's ephemeral range (32768+) does not fit.
  const portNames = [
    'frontend',
    'frontendMembership',
    'frontendHttp',
    'history',
    'historyMembership',
    'matching',
    'matchingMembership',
    'worker',
    'workerMembership',
  ] as const;
  const ports = {} as Record<(typeof portNames)[number], number>;
  for (const name of portNames) ports[name] = await freePortBelow32768(Object.values(ports));
  const datastore = (database: string, maxConns: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "${admin.hostname}:${admin.port || '5432'}"
        connectProtocol: tcp
        user: ${admin.username || 'postgres'}
        password: "${decodeURIComponent(admin.password)}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (grpc: number, membership: number, extra = '') => `
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true${extra}`;
  const mutualTls = `
      server:
        certFile: ${certs.at('internode.pem')}
        keyFile: ${certs.at('internode.key')}
        requireClientAuth: true
        clientCaFiles: [${certs.at('cluster-ca.pem')}]
      client:
        serverName: ${serverName}
        rootCaFiles: [${certs.at('cluster-ca.pem')}]`;
  const config = `
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:${datastore(databases.default, 10)}
    visibility:${datastore(databases.visibility, 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  tls:
    internode:${mutualTls}
    frontend:
      server:
        certFile: ${certs.at('frontend.pem')}
        keyFile: ${certs.at('frontend.key')}
        requireClientAuth: true
        clientCaFiles: [${certs.at('cluster-ca.pem')}]
      client:
        serverName: ${serverName}
        rootCaFiles: [${certs.at('cluster-ca.pem')}]
    systemWorker:
      certFile: ${certs.at('internode.pem')}
      keyFile: ${certs.at('internode.key')}
      client:
        serverName: ${serverName}
        rootCaFiles: [${certs.at('cluster-ca.pem')}]
services:
  frontend:${service(ports.frontend, ports.frontendMembership, `\n      httpPort: ${ports.frontendHttp}`)}
  history:${service(ports.history, ports.historyMembership)}
  matching:${service(ports.matching, ports.matchingMembership)}
  worker:${service(ports.worker, ports.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:${ports.frontend}
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${path.join(dir, 'config', 'dynamicconfig.yaml')}
  pollInterval: 10s
`;
  mkdirSync(path.join(dir, 'config'));
  writeFileSync(path.join(dir, 'config', 'development.yaml'), config);
  // Warden's Search Attributes are custom keywords; visibility on SQL has room for them. Namespaces
  // become usable everywhere once the frontends refresh their cache; 10 s by default.
  writeFileSync(path.join(dir, 'config', 'dynamicconfig.yaml'), 'system.namespaceCacheRefreshInterval:\n  - value: 1s\n');

  const recent: string[] = [];
  const server = spawn(build.server, ['--root', dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [server.stdout, server.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      recent.push(line);
      if (recent.length > 40) recent.shift();
    });
  }
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    for (const database of Object.values(databases)) await dropDatabase(options.postgresAdminUrl, database).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  const clientEnv = {
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.frontend}`,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.at('cluster-ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: serverName,
    TEMPORAL_TLS_CLIENT_CERT_PATH: certs.at('warden.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: certs.at('warden.key'),
  };
  options.log(
    `Temporal server ${build.server} starting: mTLS frontend on ${clientEnv.TEMPORAL_ADDRESS}, PostgreSQL ${databases.default} and ${databases.visibility}`,
  );
  return {
    address: clientEnv.TEMPORAL_ADDRESS,
    clientEnv,
    certificate: (name) => certs.at(name),
    recentOutput: () => [...recent],
    stop,
    // Readiness is the caller's: `warden temporal setup` retries until the frontend answers.
  } satisfies TemporalCluster & { stop: () => Promise<void> };
}

async function freePortBelow32768(taken: number[]): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.includes(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
