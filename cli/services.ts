import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { requireSetting, type Config } from '../config';
import { createDb } from '../db/create-db';
import type { Database } from '../db/database';
import {
  connectTemporalClient,
  type TemporalClientHandle,
  type TemporalConnectionSettings,
  type TemporalSettings,
} from '../temporal/connection';
import { setupTemporalNamespace, TemporalSetupError } from '../temporal/setup';
import { serverDeps, temporalSettings, workerConcurrency } from '../wiring';
import { activeTracing } from '../telemetry/index';
import { CliError } from './errors';
import { usablePrebuiltBundle } from './workflow-bundle';
import type { Lifetime } from './lifetime';

// The pieces `warden start`, `warden api` and `warden worker` assemble. Each adds itself to the
// lifetime as it starts, which is what orders the shutdown. The worker and the HTTP server are
// imported by the piece that starts them, so each process loads only its own.

export interface ServiceSettings {
  databaseUrl: string;
  temporal: TemporalSettings;
}

/** What the production processes need; they start nothing on their own, so each must be set. */
export function requireServiceSettings(config: Config, command: string): ServiceSettings {
  const why = `for \`warden ${command}\` (\`warden start\` runs everything locally without it)`;
  return { databaseUrl: requireSetting(config, 'DATABASE_URL', why), temporal: temporalSettings(config, why) };
}

/**
 * A PostgreSQL pool for one side of the process. The API and the worker get a pool each, also when
 * they share a process (`warden start`): the worker's activity slots are sized to its own pool
 * (wiring.ts, workerConcurrency), and a burst of activities cannot take the connections the API
 * answers with, nor a burst of requests the activities'.
 */
export function openDatabase(url: string, logger: Logger, lifetime: Lifetime, side: { for: 'api' | 'worker'; config: Config }) {
  const size = side.for === 'api' ? side.config.WARDEN_API_DB_POOL_SIZE : workerConcurrency(side.config).poolSize;
  const handle = createDb(url, logger, size);
  lifetime.add(`the ${side.for === 'api' ? "API's" : "worker's"} PostgreSQL pool`, handle.close);
  return handle.db;
}

export async function connectTemporal(settings: TemporalSettings, lifetime: Lifetime): Promise<TemporalClientHandle> {
  const temporal = await connectTemporalClient(settings, activeTracing()?.clientInterceptors);
  lifetime.add('the Temporal client', temporal.close);
  return temporal;
}

/** `warden temporal setup`, also run by `warden start`: the namespace and Warden's Search Attributes, idempotently. */
export async function setupTemporal(settings: TemporalConnectionSettings, logger: Logger): Promise<void> {
  try {
    const report = await setupTemporalNamespace(settings, (message) => logger.info({ component: 'temporal-setup' }, message));
    logger.info(report, 'Temporal namespace ready');
  } catch (error) {
    if (error instanceof TemporalSetupError) throw new CliError(error.message);
    throw error;
  }
}

/** Bundles the workflows, then polls the task queue until the lifetime ends or the worker fails. */
export async function startWorker(options: { config: Config; db: Kysely<Database>; logger: Logger; lifetime: Lifetime }) {
  const { config, logger, lifetime } = options;
  const { createWardenWorker, installTemporalRuntimeLogger } = await import('../worker');
  installTemporalRuntimeLogger(logger, { metricsAddress: config.WARDEN_WORKER_METRICS_ADDRESS });
  // A bundle `warden build` made from these very sources spares webpack at every start.
  const bundle = usablePrebuiltBundle();
  if ('reason' in bundle) logger.info(`bundling the workflows at start: ${bundle.reason}`);
  const worker = await createWardenWorker({
    config,
    db: options.db,
    logger,
    tracing: activeTracing(),
    ...('path' in bundle ? { workflowBundlePath: bundle.path } : {}),
  });
  lifetime.add('the worker', () => worker.shutdown());
  // run() resolves only after shutdown() was asked for; anything else leaves nobody to run workflows.
  worker.run().then(
    () => lifetime.end(1, 'the worker stopped'),
    (error: unknown) => {
      logger.error({ err: error }, 'the worker failed');
      return lifetime.end(1, 'the worker failed');
    },
  );
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker polling');
}

/** Serves the API on HOST:PORT. */
export async function startApi(options: {
  config: Config;
  db: Kysely<Database>;
  temporal: TemporalClientHandle;
  logger: Logger;
  lifetime: Lifetime;
}): Promise<void> {
  const { config } = options;
  const { buildServer } = await import('../server');
  const app = await buildServer(serverDeps(config, { db: options.db, temporal: options.temporal }), { logger: options.logger });
  // Stops accepting connections, answers 503 to new requests on kept-alive ones, and waits for
  // the requests in flight.
  options.lifetime.add('the API', () => app.close());
  try {
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new CliError(`${config.HOST}:${config.PORT} is already in use: stop what listens there, or set PORT to another port`);
  }
}
