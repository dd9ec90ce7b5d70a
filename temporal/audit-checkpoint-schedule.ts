import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import {
  type AuditCheckpointInput,
  auditCheckpointScheduleId,
  auditCheckpointWorkflowId,
  auditCheckpointWorkflowType,
} from '../domain/audit-checkpoint';
import { durationMs, type DurationText } from '../domain/duration';

/** Temporal will not take a catch-up window shorter than this. */
const minimumCatchupWindowMs = 10_000;

/**
 * Makes the Schedule `audit-checkpoint` exist with this interval and task queue; every worker that
 * holds the signing key calls it at start, so it is safe to call from many processes at once: the
 * first creates it, the others rewrite it identically. A pause set by an operator stays.
 *
 * The Schedule, not a timer in each worker, is what makes "once an interval" hold however many
 * workers run: overlap SKIP keeps a slow run from stacking a second behind it, and the catch-up
 * window (one interval) signs once after the Temporal server was down, not once per missed slot.
 */
export async function ensureAuditCheckpointSchedule(
  client: Client,
  options: { taskQueue: string; every: DurationText; scheduleId?: string },
): Promise<void> {
  const scheduleId = options.scheduleId ?? auditCheckpointScheduleId;
  const everyMs = durationMs(options.every);
  const input: AuditCheckpointInput = {};
  const action: ScheduleOptionsStartWorkflowAction<(input: AuditCheckpointInput) => Promise<unknown>> = {
    type: 'startWorkflow',
    workflowType: auditCheckpointWorkflowType,
    // Temporal appends the scheduled time: audit-checkpoint-2026-12-02T01:00:00Z.
    workflowId: auditCheckpointWorkflowId,
    taskQueue: options.taskQueue,
    args: [input],
  };
  const spec = { intervals: [{ every: everyMs }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: Math.max(minimumCatchupWindowMs, everyMs) };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies, state: { note: 'signs the head of the audit chain' } });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action, policies }));
  }
}
