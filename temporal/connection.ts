import {
  Client,
  Connection,
  type ConnectionOptions,
  defaultGrpcRetryOptions,
  isGrpcServiceError,
  makeGrpcRetryInterceptor,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { TLSConfig } from '@temporalio/client';
import { AesGcmPayloadCodec, parseCodecKeys } from './codec';

/** Where and how to reach Temporal: what every connection needs, the API's, the worker's and the CLI's. */
export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  /** `true`: TLS with the system's CAs; an object: a server CA, server name and/or client pair; unset or `false`: plaintext. */
  tls?: TLSConfig | boolean;
  /** Sent as `Authorization: Bearer …` on every call (Temporal Cloud API keys); implies TLS unless `tls` is `false`. */
  apiKey?: string;
  /** gRPC metadata sent on every call (a profile's `grpc_meta`). */
  metadata?: Record<string, string>;
}

export interface TemporalSettings extends TemporalConnectionSettings {
  taskQueue: string;
  codecKeys: string;
}

/**
 * What both `Connection.connect` (the API's client) and `NativeConnection.connect` (the worker) are
 * given: the two take these four options under the same names, so one function serves both.
 */
export function connectionOptions(settings: TemporalConnectionSettings): {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
} {
  return {
    address: settings.address,
    ...(settings.tls !== undefined ? { tls: settings.tls } : {}),
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
    ...(settings.metadata !== undefined ? { metadata: settings.metadata } : {}),
  };
}

export function createDataConverter(codecKeys: string): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(parseCodecKeys(codecKeys))] };
}

export interface TemporalClientHandle {
  client: Client;
  taskQueue: string;
  close(): Promise<void>;
}

type GrpcInterceptor = NonNullable<ConnectionOptions['interceptors']>[number];

/**
 * How long one call to the Temporal server may take, retries included, when the caller set no
 * deadline of its own (`connection.withDeadline`). Without one, a call to a server that is down
 * retried for about 20 s and a call to a server that hangs waited for ever; the API answers 503
 * instead, and the client retries. Starts, signals, queries and describes take milliseconds, so 3 s
 * is a hung server, not a slow one. A decision's Update waits for a worker to run the validator and
 * record the decision (local activities writing PostgreSQL): 10 s covers a busy worker and still
 * answers well inside an HTTP client's own timeout, and a decision while no worker polls becomes a
 * 503 instead of hanging. Reading a history long-polls until the workflow ends (the diagnostic ping
 * waits up to its 30 s execution timeout). Schedule calls are served by the schedule's own
 * workflow on the server and queue behind its work: on a busy 2-core machine a burst of them (the
 * testing schedule describes every control's at once) took over 3 s, so they get 10 s.
 */
export const temporalCallDeadlineMs = 3_000;
const methodDeadlinesMs: Record<string, number> = {
  UpdateWorkflowExecution: 10_000,
  PollWorkflowExecutionUpdate: 10_000,
  GetWorkflowExecutionHistory: 35_000,
  CreateSchedule: 10_000,
  DescribeSchedule: 10_000,
  UpdateSchedule: 10_000,
  PatchSchedule: 10_000,
  DeleteSchedule: 10_000,
  ListSchedules: 10_000,
  ListScheduleMatchingTimes: 10_000,
};

/**
 * UNAVAILABLE is retried five times (0.1 + 0.2 + 0.4 + 0.8 s of backoff, about 1.5 s) rather than
 * the SDK's ten (about 20 s): a server restart takes longer than either, and the API's caller is
 * better served by a 503 with Retry-After than by a request that hangs.
 */
const retryInterceptor = makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 5 }));

const deadlineInterceptor: GrpcInterceptor = (options, nextCall) => {
  const method = options.method_definition.path.split('/').pop() ?? '';
  const deadline = options.deadline ?? Date.now() + (methodDeadlinesMs[method] ?? temporalCallDeadlineMs);
  // The retry interceptor re-sends with these options, so the deadline bounds every attempt together.
  return retryInterceptor({ ...options, deadline }, nextCall);
};

/**
 * Connects the API's client. The connection's gRPC channel reconnects by itself after the server
 * restarts (tests/faults/restarts.test.ts proves it); only the first connect must succeed.
 */
export async function connectTemporalClient(settings: TemporalSettings): Promise<TemporalClientHandle> {
  const connection = await Connection.connect({ ...connectionOptions(settings), interceptors: [deadlineInterceptor] });
  const client = new Client({ connection, namespace: settings.namespace, dataConverter: createDataConverter(settings.codecKeys) });
  return { client, taskQueue: settings.taskQueue, close: () => connection.close() };
}

// gRPC status codes (https://grpc.io/docs/guides/status-codes/) meaning the server could not be
// reached or did not answer in time: worth retrying later, never the caller's fault.
const grpcDeadlineExceeded = 4;
const grpcUnavailable = 14;

/** Whether `error` (or one of its causes) says the Temporal server is unreachable or did not answer in time. */
export function isTemporalUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 8; current = (current as { cause?: unknown }).cause, depth++) {
    if (current instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    if (isGrpcServiceError(current) && (current.code === grpcUnavailable || current.code === grpcDeadlineExceeded)) return true;
  }
  return false;
}
