import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tracingSettings, TracingSettingsError } from '../../telemetry/environment';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const endpoint = 'http://127.0.0.1:4318';

describe('tracingSettings reads the standard OTEL_* variables', () => {
  it.each([
    ['nothing set', {}],
    ['only a service name', { OTEL_SERVICE_NAME: 'warden-api' }],
    ['the exporter turned off', { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }],
    ['the SDK disabled', { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }],
  ])('does not trace with %s', (_case, env) => {
    expect(tracingSettings(env)).toBeUndefined();
  });

  it.each([
    ['an endpoint', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }, 'http/protobuf'],
    ['a traces endpoint', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` }, 'http/protobuf'],
    ['OTEL_TRACES_EXPORTER=otlp', { OTEL_TRACES_EXPORTER: 'otlp' }, 'http/protobuf'],
    ['JSON asked for', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, 'http/json'],
    [
      'the traces protocol before the general one',
      { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' },
      'http/json',
    ],
  ])('traces over OTLP/HTTP with %s', (_case, env, protocol) => {
    expect(tracingSettings(env)).toEqual({ protocol });
  });

  it.each([
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, /^OTEL_TRACES_EXPORTER: .*not 'zipkin'/],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, /^OTEL_EXPORTER_OTLP_PROTOCOL: .*not 'grpc'/],
  ])('names the variable it cannot honour: %o', (env, message) => {
    expect(() => tracingSettings(env)).toThrow(TracingSettingsError);
    expect(() => tracingSettings(env)).toThrow(message);
  });
});

/** Starts tracing as `warden` does before a command, in a fresh process, and reports which OpenTelemetry modules it loaded. */
async function startInFreshProcess(env: Record<string, string>): Promise<{ openTelemetryModules: number; tracing: boolean }> {
  const script = `
    import { createRequire } from 'node:module';
    import { register } from 'tsx/esm/api';
    register();
    const telemetry = await import('./telemetry/index.ts');
    await telemetry.startTracingWhenConfigured();
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((file) => file.includes('/@opentelemetry/'));
    process.stdout.write(JSON.stringify({ openTelemetryModules: loaded.length, tracing: telemetry.activeTracing() !== undefined }));
    process.exit(0);`;
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')));
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
  });
  return JSON.parse(stdout);
}

describe('a process', () => {
  it('that is not asked to trace loads no OpenTelemetry module at all', async () => {
    expect(await startInFreshProcess({ OTEL_SERVICE_NAME: 'warden' })).toEqual({ openTelemetryModules: 0, tracing: false });
  });

  it('that is asked to loads the SDK and instruments', async () => {
    const started = await startInFreshProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    expect(started.tracing).toBe(true);
    expect(started.openTelemetryModules).toBeGreaterThan(0);
  });
});
