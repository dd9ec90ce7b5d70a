import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { describe, expect, it } from 'vitest';
import { traceHeader } from '../../workflows/interceptors';

// The traced path (OpenTelemetry loaded for a workflow started with a trace context) runs in
// tests/cli/tracing.test.ts; every other workflow test runs the untraced one.
describe('the workflow interceptors', () => {
  it('check the header the SDK puts the trace context in', () => {
    expect(traceHeader).toBe(TRACE_HEADER);
  });
});
