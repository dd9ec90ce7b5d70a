/** What the standard OTEL_* variables ask of Warden's tracing; read before anything else loads. */
export interface TracingSettings {
  /** OTLP over HTTP, as protobuf (the OpenTelemetry default) or JSON. */
  protocol: 'http/protobuf' | 'http/json';
}

export class TracingSettingsError extends Error {}

const protocols = ['http/protobuf', 'http/json'] as const;

/**
 * Whether to trace, from the variables every OpenTelemetry SDK reads: on when OTEL_TRACES_EXPORTER is
 * `otlp`, or when it is unset and an OTLP endpoint is given (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); off under OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
 * The specification's default exporter is OTLP to localhost, but a Warden nobody asked to trace
 * loads no tracing code at all, so "unset" means off. Endpoint, headers, timeout, compression,
 * batching (OTEL_BSP_*), service name and resource attributes are the SDK's own variables.
 */
export function tracingSettings(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unsupported = exporters.filter((name) => name !== 'otlp' && name !== 'none');
  if (unsupported.length > 0)
    throw new TracingSettingsError(
      `OTEL_TRACES_EXPORTER: Warden exports traces over OTLP only ('otlp' or 'none'), not '${unsupported.join("', '")}'`,
    );
  const wanted =
    exporters.length > 0 ? exporters.includes('otlp') : Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (!wanted) return undefined;
  const [variable, protocol] = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
    ? ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL]
    : ['OTEL_EXPORTER_OTLP_PROTOCOL', env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf'];
  const known = protocols.find((name) => name === protocol.trim());
  if (!known)
    throw new TracingSettingsError(`${variable}: Warden sends OTLP over HTTP ('http/protobuf' or 'http/json'), not '${protocol}'`);
  return { protocol: known };
}
