import type * as openTelemetry from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { defaultPayloadConverter, type Headers, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { requestIdHeader } from '../domain/request-id';

/** The header's request id for log lines; a header some other client wrote badly names nothing rather than failing the task. */
function readableRequestId(payload: NonNullable<Headers[string]>): string | undefined {
  try {
    const value = defaultPayloadConverter.fromPayload(payload);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The header a tracing client puts the trace context in: the SDK's `TRACE_HEADER`, named here so
 * that checking it loads nothing (tests/unit/workflow-interceptors.test.ts keeps the two equal).
 */
export const traceHeader = '_tracer-data';

/**
 * The SDK's OpenTelemetry interceptors for one traced workflow. Required here, not imported at the
 * top: the worker evaluates the bundle's modules afresh for every workflow it creates, and
 * OpenTelemetry's (its API, its SDK's tracer) took about 3 ms of the workflow thread each time, for
 * every workflow, traced or not (docs/performance.md). Webpack bundles the module all the same;
 * `.dependency-cruiser.cjs` fails `npm run lint` on a top-level import of it here.
 */
function openTelemetryInterceptors() {
  const { OpenTelemetryInboundInterceptor, OpenTelemetryOutboundInterceptor, OpenTelemetryInternalsInterceptor } =
    require('@temporalio/interceptors-opentelemetry/lib/workflow') as typeof openTelemetry;
  return {
    inbound: new OpenTelemetryInboundInterceptor(),
    outbound: new OpenTelemetryOutboundInterceptor(),
    internals: new OpenTelemetryInternalsInterceptor(),
  };
}

/**
 * The workflow bundle's interceptors (worker.ts lists this module in `workflowModules`, so it is in
 * every bundle, `warden build`'s included). Two concerns, neither of which adds a command, so
 * recorded histories replay unchanged:
 *
 * - The request id a workflow was started with travels on to its activities' headers (and its own
 *   log lines), so an activity's logs name the HTTP request that caused them.
 * - OpenTelemetry: the SDK's interceptors run only in a workflow whose start carried a trace context,
 *   that is, one started by a client that traces. Any other workflow (tracing off, a Schedule's start,
 *   every recorded history) passes straight through: no spans, no sink calls, no extra yields.
 */
export const interceptors: WorkflowInterceptorsFactory = () => {
  let requestId: Headers[string] | undefined;
  let reqId: string | undefined;
  let tracing: ReturnType<typeof openTelemetryInterceptors> | undefined;
  const withRequestId = <T extends { headers: Headers }>(input: T): T =>
    requestId ? { ...input, headers: { ...input.headers, [requestIdHeader]: requestId } } : input;

  return {
    inbound: [
      {
        execute(input, next) {
          requestId = input.headers[requestIdHeader];
          reqId = requestId && readableRequestId(requestId);
          if (!input.headers[traceHeader]) return next(input);
          tracing = openTelemetryInterceptors();
          return tracing.inbound.execute(input, next);
        },
        handleSignal: (input, next) => (tracing ? tracing.inbound.handleSignal(input, next) : next(input)),
        handleUpdate: (input, next) => (tracing ? tracing.inbound.handleUpdate(input, next) : next(input)),
        validateUpdate: (input, next) => (tracing ? tracing.inbound.validateUpdate(input, next) : next(input)),
        handleQuery: (input, next) => (tracing ? tracing.inbound.handleQuery(input, next) : next(input)),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) =>
          tracing ? tracing.outbound.scheduleActivity(withRequestId(input), next) : next(withRequestId(input)),
        scheduleLocalActivity: (input, next) =>
          tracing ? tracing.outbound.scheduleLocalActivity(withRequestId(input), next) : next(withRequestId(input)),
        startChildWorkflowExecution: (input, next) =>
          tracing ? tracing.outbound.startChildWorkflowExecution(withRequestId(input), next) : next(withRequestId(input)),
        signalWorkflow: (input, next) => (tracing ? tracing.outbound.signalWorkflow(input, next) : next(input)),
        continueAsNew: (input, next) => (tracing ? tracing.outbound.continueAsNew(input, next) : next(input)),
        getLogAttributes: (input, next) => {
          const attributes = reqId ? { reqId, ...input } : input;
          return tracing ? tracing.outbound.getLogAttributes(attributes, next) : next(attributes);
        },
      },
    ],
    internals: [{ dispose: (input, next) => (tracing ? tracing.internals.dispose(input, next) : next(input)) }],
  };
};
