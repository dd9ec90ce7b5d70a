#!/usr/bin/env node
// Warden runs its TypeScript sources through tsx: one code path for development and production,
// no build step to forget. `npm run typecheck` is what keeps the types honest.
import { register } from 'tsx/esm/api';

register();
// Before the command's modules load: tracing (when OTEL_* asks for it) patches `http` and `pg` as they load.
const { startTracingWhenConfigured, TracingSettingsError } = await import('../telemetry/index.ts');
try {
  await startTracingWhenConfigured();
} catch (error) {
  if (!(error instanceof TracingSettingsError)) throw error;
  process.stderr.write(`warden: ${error.message}\n`);
  process.exit(2);
}
await import('../cli/warden.ts');
