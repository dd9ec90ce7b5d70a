import { tracingSettings } from './environment';
// Types only: telemetry/tracing.ts and the OpenTelemetry packages it imports load when tracing starts.
import type { Tracing } from './tracing';

export { TracingSettingsError } from './environment';
export type { Tracing, WorkflowInfoForSpans } from './tracing';

let active: Tracing | undefined;

/**
 * Starts tracing when the OTEL_* variables ask for it (telemetry/environment.ts); otherwise loads
 * nothing, so a process that does not trace pays nothing for it. Throws TracingSettingsError naming
 * the variable it cannot honour.
 */
export async function startTracingWhenConfigured(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = tracingSettings(env);
  if (!settings) return;
  const { startTracing } = await import('./tracing');
  active = startTracing(settings);
}

/** The tracer this process started, if it traces. */
export function activeTracing(): Tracing | undefined {
  return active;
}
