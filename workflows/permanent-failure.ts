import { ActivityFailure, ApplicationFailure, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities/notifications';
import type { FailedProcess, ProcessFailureActivities } from '../activities/process-failures';
import { isPermanentFailureType, sanitiseText, type ProcessFailure } from '../domain/failure';
import { publishSearchFields } from './search-attributes';

// Recording a failure is one small PostgreSQL write of the workflow's own (sanitised) values, and
// the notification an insert with a dedup key: retried until the database is back, with no
// attempt limit, since a refusal of these would itself fail at once (activities/permanent-failures.ts).
export const { recordProcessFailure } = proxyActivities<ProcessFailureActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});
const { notify } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

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

/**
 * Runs a process's procedure; when it meets a permanent failure, ends it visibly: the failure is
 * recorded (`process_failures`, the record's status `failed` where it has one, an audit event), the
 * Security Manager is told, and the workflow fails with a non-retryable `ApplicationFailure` of the
 * same type, so Temporal shows it failed too. Anything else is rethrown as it was.
 */
export async function endingVisibly<T>(
  process: { record: FailedProcess; label: string; subject: { type: string; id: string }; drill?: boolean },
  procedure: () => Promise<T>,
): Promise<T> {
  try {
    return await procedure();
  } catch (error) {
    const failure = permanentFailureOf(error);
    if (!failure || !patched(endVisiblyPatch)) throw error;
    await recordProcessFailure({ workflowId: workflowInfo().workflowId, record: process.record, failure });
    publishSearchFields({ status: 'failed' });
    const drill = process.drill === true;
    await notify({
      dedupKey: `${process.subject.type}:${process.subject.id}:failed`,
      recipientRoles: ['security_manager'],
      recipients: [],
      subject: process.subject,
      title: `${drill ? '[DRILL] ' : ''}${sanitiseText(process.label, 200)} failed`,
      body: `${failure.step} failed for good (${failure.type}): ${failure.message}. The record is marked failed; handle it by hand.`,
      drill,
    });
    throw ApplicationFailure.create({
      message: `${failure.step}: ${failure.message}`,
      type: failure.type,
      nonRetryable: true,
      details: [failure],
      cause: error instanceof Error ? error : undefined,
    });
  }
}
