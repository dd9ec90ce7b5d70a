import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { notifierSettings } from '../activities/notifier';
import { buildServer } from '../server';
import { callbackSettings, requireSetting, type Config } from '../config';
import { createDb } from '../db/create-db';
import type { Database } from '../db/database';
import { AesGcmPayloadCodec, parseCodecKeys } from '../temporal/codec';
import { connectTemporalClient, type TemporalClientHandle, type TemporalSettings } from '../temporal/connection';
import { createWardenWorker, installTemporalRuntimeLogger } from '../worker';
import { CliError } from './errors';
import type { Lifetime } from './lifetime';

// The pieces `warden start`, `warden api` and `warden worker` assemble. Each adds itself to the
// lifetime as it starts, which is what orders the shutdown.

export interface ServiceSettings {
  databaseUrl: string;
  temporal: TemporalSettings;
}

/** What the production processes need; they start nothing on their own, so each must be set. */
export function requireServiceSettings(config: Config, command: string): ServiceSettings {
  const why = `for \`warden ${command}\` (\`warden start\` runs everything locally without it)`;
  return {
    databaseUrl: requireSetting(config, 'DATABASE_URL', why),
    temporal: {
      address: requireSetting(config, 'TEMPORAL_ADDRESS', why),
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      codecKeys: requireSetting(config, 'WARDEN_CODEC_KEYS', why),
    },
  };
}

export function openDatabase(url: string, logger: Logger, lifetime: Lifetime): Kysely<Database> {
  const handle = createDb(url, logger);
  lifetime.add('the PostgreSQL pool', handle.close);
  return handle.db;
}

export async function connectTemporal(settings: TemporalSettings, lifetime: Lifetime): Promise<TemporalClientHandle> {
  const temporal = await connectTemporalClient(settings);
  lifetime.add('the Temporal client', temporal.close);
  return temporal;
}

/** Bundles the workflows, then polls the task queue until the lifetime ends or the worker fails. */
export async function startWorker(options: {
  settings: TemporalSettings;
  config: Config;
  db: Kysely<Database>;
  logger: Logger;
  lifetime: Lifetime;
}) {
  const { logger, lifetime } = options;
  installTemporalRuntimeLogger(logger, { metricsAddress: options.config.WARDEN_WORKER_METRICS_ADDRESS });
  const worker = await createWardenWorker({
    ...options.settings,
    db: options.db,
    logger,
    responderUrl: options.config.WARDEN_RESPONDER_URL,
    responderSecret: options.config.WARDEN_RESPONDER_SECRET,
    provisioningSecret: options.config.WARDEN_PROVISIONING_SECRET,
    notifications: notifierSettings(options.config),
    callbacks: callbackSettings(options.config),
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
  logger.info({ taskQueue: options.settings.taskQueue }, 'worker polling');
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
  const codec = new AesGcmPayloadCodec(parseCodecKeys(requireSetting(config, 'WARDEN_CODEC_KEYS', 'to encrypt Temporal payloads')));
  const app = await buildServer({ config, db: options.db, temporal: options.temporal, codec }, { logger: options.logger });
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
