import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { isPermanentFailureType, sanitiseText, type ProcessFailure } from '../domain/failure';

/**
 * The permanent failure `error` is, when an activity failed with one of the non-retryable types
 * `activities/permanent-failures.ts` gives PostgreSQL's data, constraint and schema refusals;
 * undefined for anything else (a cancellation, a refusal an activity throws on purpose, a
 * continue-as-new), which the caller rethrows.
 */
export function permanentFailureOf(error: unknown): ProcessFailure | undefined {
  if (!(error instanceof ActivityFailure)) return undefined;
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure) || !cause.nonRetryable || !isPermanentFailureType(cause.type)) return undefined;
  return { type: cause.type, step: error.activityType, message: sanitiseText(cause.message) };
}

/**
 * The marker around what a process does when it meets a permanent failure (record its failed
 * state, tell the Security Manager, end). Histories recorded before it failed the workflow there.
 */
export const endVisiblyPatch = 'permanent-failure-ends-visibly';
