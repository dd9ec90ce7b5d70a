import { ApplicationFailure } from '@temporalio/common';
import { permanentPgFailure } from '../db/pg-errors';
import { sanitiseText } from '../domain/failure';

type ActivityFunctions = Record<string, (...args: never[]) => Promise<unknown>>;

/**
 * Each activity of `activities`, with PostgreSQL's permanent refusals (data, constraint and schema
 * errors; see `permanentPgFailure`) turned into a non-retryable `ApplicationFailure` of type
 * `InvalidData`, `ConstraintViolation` or `SchemaMismatch`: a retry would send the same values and
 * get the same refusal, so retrying only wedges the workflow. Every other error passes through
 * untouched and is retried by the caller's policy: unavailability (connection refused, 57P01,
 * 57P03, 08xxx, timeouts) goes away by itself, and a bug is fixed by a deploy that the retry then
 * picks up. An `ApplicationFailure` an activity throws on purpose passes through as it is.
 *
 * Done here, where the factories are merged, rather than in a worker interceptor: it covers local
 * and ordinary activities alike, and every caller of `createActivities` (the worker, tests,
 * benchmarks) gets the same behaviour without a worker.
 */
export function withPermanentFailures<T extends ActivityFunctions>(activities: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, activity] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await activity(...args);
      } catch (error) {
        if (error instanceof ApplicationFailure) throw error;
        const permanent = permanentPgFailure(error);
        if (!permanent) throw error;
        // The driver's message names the refusal ("invalid byte sequence for encoding UTF8: 0x00"),
        // never the values sent; sanitised anyway, since it travels into history and records.
        const message = sanitiseText(error instanceof Error ? error.message : String(error));
        throw ApplicationFailure.create({
          message: `${name}: ${message}`,
          type: permanent.type,
          nonRetryable: true,
          details: [{ activity: name, sqlState: permanent.sqlState }],
          cause: error instanceof Error ? error : undefined,
        });
      }
    };
  }
  return wrapped as T;
}
