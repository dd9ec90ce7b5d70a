import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type ActivityInterceptorsFactory,
  type InjectedSinks,
  type LogLevel,
  type WorkerOptions,
} from '@temporalio/worker';
import { Client } from '@temporalio/client';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { createActivities } from './activities/index';
import type { Config } from './config';
import { sweepPendingAudit } from './db/audit-linker';
import type { Database } from './db/database';
import { ensureAuditCheckpointSchedule } from './temporal/audit-checkpoint-schedule';
import { connectionOptions, createDataConverter, type TemporalSettings } from './temporal/connection';
import { currentRequestId, requestIdFromHeaders, runWithRequestId } from './temporal/request-id';
import type { Tracing } from './telemetry/index';
import { activityDeps, auditCheckpointSettings, temporalSettings, workerConcurrency } from './wiring';

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));
/** In every bundle: the request id's way to the activities, and tracing for workflows started traced. */
export const workflowInterceptorModules = [fileURLToPath(new URL('./workflows/interceptors.ts', import.meta.url))];

/** The workflow bundle a worker loads: `warden build` writes it once so workers start without webpack. */
export async function bundleWorkflows(): Promise<string> {
  const quiet = { info() {}, warn() {}, debug() {}, trace() {}, log() {}, error: console.error };
  return (await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules, logger: quiet })).code;
}

/** Shutdown: running activities get `shutdownGrace` to finish; after `shutdownForce` the worker stops regardless. */
export const shutdownGrace = '5s';
export const shutdownForce = '10s';

/**
 * How often a worker links audit events no write came to link (a process died between its commit and
 * its link, or PostgreSQL was away when it tried): the next audited write anywhere links them sooner.
 */
export const auditSweepMs = 5_000;

export interface WardenWorkerOptions {
  /** Every setting the worker and its activities use comes from here, through wiring.ts. */
  config: Config;
  /** The worker's own pool, of WARDEN_WORKER_DB_POOL_SIZE connections (workerConcurrency): its slots are sized to it. */
  db: Kysely<Database>;
  logger: Logger;
  /** A prebuilt bundle (tests build one for every file); otherwise the worker bundles at start. */
  workflowBundlePath?: string;
  /** The process's tracer (telemetry/), when it traces. */
  tracing?: Tracing;
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

/** The activities' logger: a line logged while an activity runs for an HTTP request names it (`reqId`, as the API's lines do). */
function activityLogger(logger: Logger): Logger {
  return logger.child(
    {},
    {
      formatters: {
        log: (line) => {
          const reqId = currentRequestId();
          return reqId ? { reqId, ...line } : line;
        },
      },
    },
  );
}

/**
 * Runs each activity under the request id its workflow was started with (workflows/interceptors.ts
 * puts it in the activity's headers), and logs its end at debug level, named by that id.
 */
function requestIdActivityInterceptor(logger: Logger): ActivityInterceptorsFactory {
  const log = activityLogger(logger);
  return (context) => ({
    inbound: {
      async execute(input, next) {
        const run = async () => {
          const started = performance.now();
          const { activityType, workflowExecution, attempt } = context.info;
          const line = { activityType, workflowId: workflowExecution?.workflowId, attempt };
          try {
            const result = await next(input);
            log.debug({ ...line, durationMs: Math.round(performance.now() - started) }, 'activity completed');
            return result;
          } catch (error) {
            log.debug({ ...line, durationMs: Math.round(performance.now() - started), err: error }, 'activity failed');
            throw error;
          }
        };
        const requestId = requestIdFromHeaders(input.headers);
        return requestId ? runWithRequestId(requestId, run) : run();
      },
    },
  });
}

/**
 * The sink workflows hand their spans to. Always there, because a workflow started by a tracing API
 * makes spans whether or not this worker traces; without a tracer they are dropped here.
 */
function workflowSpanSinks(tracing: Tracing | undefined): InjectedSinks<OpenTelemetrySinks> {
  return {
    exporter: {
      export: {
        fn: (info, spans) =>
          tracing?.exportWorkflowSpans(
            {
              namespace: info.namespace,
              taskQueue: info.taskQueue,
              workflowId: info.workflowId,
              runId: info.runId,
              workflowType: info.workflowType,
              attempt: info.attempt,
            },
            spans,
          ),
      },
    },
  };
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
  const slots = workerConcurrency(options.config);
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    identity,
    ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath }),
    activities: createActivities(
      activityDeps(options.config, { db: options.db, logger: activityLogger(options.logger), workerIdentity: identity }),
    ),
    interceptors: {
      // A prebuilt bundle has the workflow interceptors in it already (bundleWorkflows); the SDK
      // ignores the modules then, with a warning at every start.
      ...(options.workflowBundlePath ? {} : { workflowModules: workflowInterceptorModules }),
      activity: [...(options.tracing?.activityInterceptors ?? []), requestIdActivityInterceptor(options.logger)],
    },
    sinks: workflowSpanSinks(options.tracing),
    dataConverter: createDataConverter(settings.codecKeys),
    // On SIGTERM the worker stops polling and gives running activities this long to finish, then
    // cancels them (they are safe to retry: another worker runs them again after their timeout).
    shutdownGraceTime: shutdownGrace,
    // An activity that ignores its cancellation (stuck in a query, a hung socket) would otherwise hold
    // the worker for ever; orchestrators kill a process that has not exited in about 30 s (Kubernetes'
    // default grace), and Warden promises 15 s: 10 s here, then at most 2 s to let go of the pool.
    shutdownForceTime: shutdownForce,
    // Slots that fit the worker's pool (WARDEN_WORKER_DB_POOL_SIZE): the SDK's default of 100 each
    // ran a pool of 10 dry, and activities failed on the pool's connect timeout.
    maxConcurrentActivityTaskExecutions: slots.maxConcurrentActivityTaskExecutions,
    maxConcurrentLocalActivityExecutions: slots.maxConcurrentLocalActivityExecutions,
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
      running ??= (() => {
        const stopSweep = sweepPendingAudit(options.db, auditSweepMs, (error) =>
          options.logger.warn({ err: error }, 'linking pending audit events failed; the next sweep tries again'),
        );
        return worker.run().finally(() => {
          stopSweep();
          return connection.close();
        });
      })();
      return running;
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
