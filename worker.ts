import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type WorkerOptions,
} from '@temporalio/worker';
import { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { createActivities } from './activities/index';
import type { Config } from './config';
import type { Database } from './db/database';
import { ensureAuditCheckpointSchedule } from './temporal/audit-checkpoint-schedule';
import { connectionOptions, createDataConverter, type TemporalSettings } from './temporal/connection';
import { activityDeps, auditCheckpointSettings, temporalSettings } from './wiring';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/** The workflow bundle a worker loads: `warden build` writes it once so workers start without webpack. */
export async function bundleWorkflows(): Promise<string> {
  const quiet = { info() {}, warn() {}, debug() {}, trace() {}, log() {}, error: console.error };
  return (await bundleWorkflowCode({ workflowsPath, logger: quiet })).code;
}

/** Shutdown: running activities get `shutdownGrace` to finish; after `shutdownForce` the worker stops regardless. */
export const shutdownGrace = '5s';
export const shutdownForce = '10s';

export interface WardenWorkerOptions {
  /** Every setting the worker and its activities use comes from here, through wiring.ts. */
  config: Config;
  db: Kysely<Database>;
  logger: Logger;
  /** A prebuilt bundle (tests build one for every file); otherwise the worker bundles at start. */
  workflowBundlePath?: string;
  /** Extra worker options for tests and tuning (concurrency, sticky cache). */
  tuning?: Partial<
    Pick<WorkerOptions, 'maxCachedWorkflows' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions'>
  >;
}

export interface WardenWorker {
  worker: Worker;
  /** Resolves when the worker has stopped: after shutdown() drained in-flight tasks. */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

const pinoLevels = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const satisfies Record<
  LogLevel,
  string
>;

/**
 * Sends the Temporal SDK's own logs, from TypeScript and from its native core, to `logger` at WARN
 * and above: its INFO lines narrate every worker state change. With `metricsAddress` (host:port)
 * the SDK's core also serves its worker metrics (task slots, poll and schedule-to-start latencies,
 * sticky cache) for Prometheus at http://<metricsAddress>/metrics. The runtime is process-wide and
 * installs once: call this once, before the first worker.
 */
export function installTemporalRuntimeLogger(logger: Logger, options: { metricsAddress?: string } = {}): void {
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => sdkLogger[pinoLevels[level]](meta ?? {}, message)),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(options.metricsAddress ? { metrics: { prometheus: { bindAddress: options.metricsAddress } } } : {}),
    },
    // The SDK would stop workers on SIGINT/SIGTERM by itself; Warden's CLI closes the API first.
    shutdownSignals: [],
  });
}

/**
 * How long a starting worker keeps trying to reach Temporal. Once connected, the SDK's core
 * reconnects by itself through a server restart; only the first connect fails outright, and a
 * worker started (or restarted by its supervisor) while Temporal restarts would exit at once.
 */
const connectPatienceMs = 60_000;

async function connectWhenAvailable(settings: TemporalSettings, logger: Logger): Promise<NativeConnection> {
  const { address } = settings;
  const deadline = Date.now() + connectPatienceMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5_000)) {
    try {
      return await NativeConnection.connect(connectionOptions(settings));
    } catch (error) {
      if (Date.now() + delay > deadline) throw error;
      logger.warn({ err: error, address }, `Temporal is not reachable; retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export async function createWardenWorker(options: WardenWorkerOptions): Promise<WardenWorker> {
  const settings = temporalSettings(options.config, 'for the worker');
  const identity = `${hostname()}:${process.pid}:${settings.taskQueue}`;
  const connection = await connectWhenAvailable(settings, options.logger);
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    identity,
    ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath }),
    activities: createActivities(activityDeps(options.config, { db: options.db, logger: options.logger, workerIdentity: identity })),
    dataConverter: createDataConverter(settings.codecKeys),
    // On SIGTERM the worker stops polling and gives running activities this long to finish, then
    // cancels them (they are safe to retry: another worker runs them again after their timeout).
    shutdownGraceTime: shutdownGrace,
    // An activity that ignores its cancellation (stuck in a query, a hung socket) would otherwise hold
    // the worker for ever; orchestrators kill a process that has not exited in about 30 s (Kubernetes'
    // default grace), and Warden promises 15 s: 10 s here, then at most 2 s to let go of the pool.
    shutdownForceTime: shutdownForce,
    ...options.tuning,
  });
  const checkpoints = auditCheckpointSettings(options.config);
  if (checkpoints) {
    // A worker that can sign makes sure something asks it to; its connection serves the client too.
    const client = new Client({ connection, namespace: settings.namespace, dataConverter: createDataConverter(settings.codecKeys) });
    await ensureAuditCheckpointSchedule(client, checkpoints);
  }
  let running: Promise<void> | undefined;
  return {
    worker,
    run() {
      running ??= worker.run().finally(() => connection.close());
      return running;
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
