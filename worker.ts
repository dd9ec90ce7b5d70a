import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { createActivities } from './activities/index';
import { createNotifier, type NotifierSettings } from './activities/notifier';
import type { CallbackSettings } from './config';
import type { Database } from './db/database';
import { createDataConverter, type TemporalSettings } from './temporal/connection';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface WardenWorkerOptions extends TemporalSettings {
  db: Kysely<Database>;
  logger: Logger;
  /** Where approved containment actions are POSTed; see activities/incidents.ts. */
  responderUrl?: string;
  responderSecret?: string;
  provisioningSecret?: string;
  /** WARDEN_COMMAND_CHECKS_ENABLED; off unless the operator opts in. */
  commandChecksEnabled?: boolean;
  /** Where notifications go besides the in-app record; see activities/notifier.ts. */
  notifications?: NotifierSettings;
  /** Change-gate callbacks; without them no callback is sent. */
  callbacks?: CallbackSettings;
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

export async function createWardenWorker(options: WardenWorkerOptions): Promise<WardenWorker> {
  const identity = `${hostname()}:${process.pid}:${options.taskQueue}`;
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    identity,
    ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath }),
    activities: createActivities({
      db: options.db,
      logger: options.logger,
      workerIdentity: identity,
      responderUrl: options.responderUrl,
      responderSecret: options.responderSecret,
      provisioningSecret: options.provisioningSecret,
      commandChecksEnabled: options.commandChecksEnabled ?? false,
      notifier: createNotifier(options.notifications ?? { mailFrom: 'Warden <warden@localhost>', routes: {} }),
      callbacks: options.callbacks ?? { allowedOrigins: [], secret: undefined },
    }),
    dataConverter: createDataConverter(options.codecKeys),
    // Shutdown waits this long for running activities before cancelling them.
    shutdownGraceTime: '10s',
    ...options.tuning,
  });
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
