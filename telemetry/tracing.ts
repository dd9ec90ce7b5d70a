import { subscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { detectResourcesSync, envDetectorSync, hostDetectorSync, processDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { SerializableSpan } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { wardenVersion } from '../version';
import type { TracingSettings } from './environment';

/** What a workflow's exported spans are labelled with: ids and names only, never its memo (titles, decrypted). */
export interface WorkflowInfoForSpans {
  namespace: string;
  taskQueue: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  attempt: number;
}

/** A running tracer, and what the Temporal client and worker plug into it. */
export interface Tracing {
  /** Spans around workflow starts, signals, Updates and queries, their context sent in the headers. */
  clientInterceptors: WorkflowClientInterceptor[];
  /** A span around every activity, child of the workflow's span that scheduled it. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** Where the worker's sink delivers the spans workflows made (they cannot export from the sandbox). */
  exportWorkflowSpans(info: WorkflowInfoForSpans, spans: SerializableSpan[]): void;
  /** Exports what is still batched, then stops. */
  shutdown(): Promise<void>;
}

/** Requests that say nothing about Warden's work and arrive every few seconds: probes and scrapes. */
const untracedPaths = new Set(['/healthz', '/readyz', '/metrics', '/metrics/business']);

/**
 * Starts OpenTelemetry for this process: a tracer provider exporting over OTLP/HTTP in batches, the
 * HTTP server and client and PostgreSQL instrumented, and what the Temporal client and worker need
 * (interceptors, the sink through which workflows, which cannot do I/O, hand over their spans).
 * Must run before `pg` and `http` are first loaded: cli/warden.ts calls it before a command loads its modules.
 */
export function startTracing(settings: TracingSettings): Tracing {
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (the env detector) override these defaults.
  const resource = new Resource({ 'service.name': 'warden', 'service.version': wardenVersion }).merge(
    detectResourcesSync({ detectors: [envDetectorSync, hostDetectorSync, processDetectorSync] }),
  );
  // Both read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, _TIMEOUT and _COMPRESSION themselves.
  const exporter = settings.protocol === 'http/json' ? new OtlpJsonTraceExporter() : new OtlpProtobufTraceExporter();
  // Batched (OTEL_BSP_* tune it): a request never waits for the collector.
  const spanProcessor = new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();

  registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => untracedPaths.has((request.url ?? '').split('?')[0] ?? ''),
      }),
      // Statements only inside a trace: the pool's own comings and goings would each be a trace of
      // their own. Parameter values are never recorded (they hold incident details).
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  // The instrumentations patch modules as they are required. Warden's sources import `pg` as ESM,
  // which Node loads through its CommonJS cache without the hook seeing a require: requiring it
  // here first patches the one copy every later import receives.
  createRequire(import.meta.url)('pg');

  // The HTTP span knows the path, not the route: Fastify tells the route as the handler starts, and
  // the span takes its name and `http.route` from it (never a raw path with ids in it).
  subscribe('tracing:fastify.request.handler:start', (message) => {
    const { route } = message as { route?: { url?: string; method?: string } };
    const span = trace.getActiveSpan();
    if (!span || !route?.url) return;
    span.updateName(`${route.method ?? ''} ${route.url}`.trim());
    span.setAttribute('http.route', route.url);
  });

  const workflowSpans = makeWorkflowExporter(spanProcessor, resource);
  return {
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor()],
    activityInterceptors: [
      (context) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(context),
        outbound: new OpenTelemetryActivityOutboundInterceptor(context),
      }),
    ],
    exportWorkflowSpans: (info: WorkflowInfoForSpans, spans) => workflowSpans.export.fn(info as never, spans),
    shutdown: () => provider.shutdown(),
  };
}
