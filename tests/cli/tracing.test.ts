import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../cli/embedded-postgres';
import { configSchema } from '../../config';
import { createDb } from '../../db/create-db';
import { createToken } from '../../db/tokens';
import { incidentPlaybookWorkflowType } from '../../domain/incident';
import { createDataConverter } from '../../temporal/connection';
import { eventually } from '../setup/stack';
import { createDatabase, databaseUrl, dropDatabase } from '../setup/postgres';

// Issue #20: one POST /incidents, received by an OTLP/HTTP collector as one trace, from the HTTP
// request through the workflow start and the workflow to its first activity and that activity's
// SQL; and the request id in the activity's log lines. Real `warden api` and `warden worker`
// processes, a real Temporal dev server and PostgreSQL; the collector is a loopback HTTP server.

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const database = `${inject('databasePrefix')}tracing`;
const taskQueue = `tracing-${randomBytes(4).toString('hex')}`;

// The collector's schema, as the OpenTelemetry exporter packages ship it compiled (protobufjs).
const { opentelemetry } = createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const exportRequest = opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

const spans: ReceivedSpan[] = [];
const contentTypes = new Set<string>();
const collector = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    contentTypes.add(request.headers['content-type'] ?? '');
    const message = exportRequest.toObject(exportRequest.decode(Buffer.concat(chunks)), { longs: String, bytes: String });
    const hex = (bytes: string | undefined) => Buffer.from(bytes ?? '', 'base64').toString('hex');
    for (const resourceSpans of message.resourceSpans ?? []) {
      const service = resourceSpans.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value?.stringValue;
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          spans.push({
            service,
            traceId: hex(span.traceId),
            spanId: hex(span.spanId),
            parentSpanId: hex(span.parentSpanId),
            name: span.name,
            kind: span.kind,
            attributes: Object.fromEntries(
              (span.attributes ?? []).map((a: { key: string; value: Record<string, unknown> }) => [a.key, Object.values(a.value)[0]]),
            ),
          });
        }
      }
    }
    response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  });
});

/** `eventually`, with what the processes said when it did not happen: only known once it has not. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number, explain: () => string): Promise<void> {
  try {
    await eventually(check, timeoutMs);
  } catch (error) {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${explain()}`, { cause: error });
  }
}

const children: ChildProcess[] = [];
let workerOutput = '';
let apiOutput = '';
let apiUrl = '';

function startWarden(command: 'api' | 'worker', env: Record<string, string>, onOutput: (text: string) => void): ChildProcess {
  // None of the test run's own Warden or OpenTelemetry settings may leak into the child.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !(key in configSchema.shape) && !key.startsWith('OTEL_')),
  );
  const child = spawn(process.execPath, ['bin/warden.js', command], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => onOutput(chunk.toString()));
  children.push(child);
  return child;
}

beforeAll(async () => {
  await createDatabase(inject('postgresAdminUrl'), database, inject('templateDatabase'));
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const common = {
    DATABASE_URL: databaseUrl(inject('postgresAdminUrl'), database),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    WARDEN_CODEC_KEYS: inject('codecKeys'),
    LOG_LEVEL: 'debug',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    // Exported in small batches at once rather than every 5 s: the test waits for spans, not time.
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };
  const port = await freePort();
  apiUrl = `http://127.0.0.1:${port}`;
  startWarden('worker', { ...common, OTEL_SERVICE_NAME: 'warden-worker' }, (text) => (workerOutput += text));
  startWarden('api', { ...common, OTEL_SERVICE_NAME: 'warden-api', HOST: '127.0.0.1', PORT: String(port) }, (text) => (apiOutput += text));
  await waitFor(
    async () => workerOutput.includes('"msg":"worker polling"'),
    120_000,
    () => `the worker to poll:\n${workerOutput}`,
  );
  await waitFor(
    async () => (await fetch(`${apiUrl}/healthz`).catch(() => undefined))?.ok === true,
    60_000,
    () => `the API to answer:\n${apiOutput}`,
  );
}, 200_000);

afterAll(async () => {
  for (const child of children) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    child.kill('SIGKILL');
  }
  await new Promise((resolve) => collector.close(resolve));
  await dropDatabase(inject('postgresAdminUrl'), database);
}, 60_000);

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  const requestId = `trace-test-${randomUUID()}`;
  let incidentId = '';
  // The caller's own trace: Warden's spans join it (W3C traceparent).
  const callerTraceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');

  it('sends one POST /incidents to the collector as one trace: HTTP, workflow start, workflow, first activity, SQL', async () => {
    const handle = createDb(databaseUrl(inject('postgresAdminUrl'), database));
    const { token } = await createToken(handle.db, { name: 'tracer', principalId: 'tracer', roles: ['security_analyst'] }, 'test');
    await handle.close();
    const response = await fetch(`${apiUrl}/incidents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
        traceparent: `00-${callerTraceId}-${callerSpanId}-01`,
      },
      // Not a security incident (category other, no threatened aspect): its workflow registers it and
      // ends, and a workflow's span is exported when the workflow ends.
      body: JSON.stringify({ title: 'Printer jammed', description: 'traced', category: 'other', affectedCis: [], source: 'edr' }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    incidentId = ((await response.json()) as { id: string }).id;

    const inTrace = () => spans.filter((span) => span.traceId === callerTraceId);
    const named = (prefix: string) => inTrace().find((span) => span.name.startsWith(prefix));
    const childOf = (parent: ReceivedSpan | undefined, prefix: string) =>
      parent && inTrace().find((span) => span.parentSpanId === parent.spanId && span.name.startsWith(prefix));
    await waitFor(
      async () => {
        const runActivity = childOf(childOf(named(`RunWorkflow:${incidentPlaybookWorkflowType}`), 'StartActivity:'), 'RunActivity:');
        return inTrace().some((span) => span.parentSpanId === runActivity?.spanId && span.attributes['db.system'] === 'postgresql');
      },
      60_000,
      () => `the trace through the first activity's SQL; received:\n${spans.map((s) => `${s.service} ${s.traceId} ${s.name}`).join('\n')}`,
    );

    const http = named('POST /incidents');
    expect(http).toMatchObject({ service: 'warden-api', parentSpanId: callerSpanId, kind: 2 /* SERVER */ });
    expect(http?.attributes['http.route']).toBe('/incidents');
    const start = childOf(http, `StartWorkflow:${incidentPlaybookWorkflowType}`);
    expect(start).toMatchObject({ service: 'warden-api' });
    const run = childOf(start, `RunWorkflow:${incidentPlaybookWorkflowType}`);
    expect(run).toMatchObject({ service: 'warden-worker' });
    expect(run?.attributes.workflowId).toBe(`incident/${incidentId}`);
    // The workflow's memo (titles, decrypted on the worker) never reaches the collector.
    expect(run?.attributes).not.toHaveProperty('memo');
    const scheduled = childOf(run, 'StartActivity:');
    const activity = childOf(scheduled, 'RunActivity:');
    expect(activity).toMatchObject({ service: 'warden-worker' });
    expect(activity?.name.slice('RunActivity:'.length)).toBe(scheduled?.name.slice('StartActivity:'.length));
    expect(inTrace().filter((span) => span.parentSpanId === activity?.spanId && span.attributes['db.system'] === 'postgresql')).not.toEqual(
      [],
    );
    // The API's own SQL (authentication, the idempotent start) is in the request's trace too.
    expect(inTrace().some((span) => span.parentSpanId === http?.spanId && span.attributes['db.system'] === 'postgresql')).toBe(true);
    // Statements, never their parameter values (incident details).
    expect(JSON.stringify(inTrace())).not.toContain('Printer jammed');
    expect([...contentTypes]).toEqual(['application/x-protobuf']);
  }, 120_000);

  it("logs the request's X-Request-Id on the lines its activities log", async () => {
    expect(incidentId).not.toBe('');
    const lines = () =>
      workerOutput
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    await waitFor(
      async () => lines().some((line) => line.msg === 'activity completed' && line.workflowId === `incident/${incidentId}`),
      30_000,
      () => `an activity of incident/${incidentId} to complete:\n${workerOutput}`,
    );
    const ofIncident = lines().filter((line) => line.msg === 'activity completed' && line.workflowId === `incident/${incidentId}`);
    expect(ofIncident.every((line) => line.reqId === requestId)).toBe(true);
  }, 60_000);

  it('replays the traced workflow: its tracing and request id headers add no command', async () => {
    expect(incidentId).not.toBe('');
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const dataConverter = createDataConverter(inject('codecKeys'));
      const history = await new Client({ connection, dataConverter }).workflow.getHandle(`incident/${incidentId}`).fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      expect(Object.keys(started?.header?.fields ?? {}).sort()).toEqual(['_tracer-data', 'warden-request-id']);
      await expect(
        Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter }, history),
      ).resolves.toBeUndefined();
    } finally {
      await connection.close();
    }
  }, 60_000);
});
