import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { reviewScheduleId, scheduledSecurityReviewWorkflowType, type ScheduledReviewInput } from '../domain/security-review';

/** The Schedule that starts the periodic review, or undefined if there is none. */
export async function describeReviewSchedule(client: Client): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(reviewScheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Creates or changes the Schedule `security-review/quarterly`. The cadence travels in the input too:
 * Temporal describes cron expressions back as calendars, and the view shows them as they were set.
 * Whether it is paused stays as it was unless `paused` says otherwise.
 */
export async function putReviewSchedule(
  client: Client,
  taskQueue: string,
  input: ScheduledReviewInput,
  paused: boolean | undefined,
): Promise<ScheduleDescription> {
  const { cadence } = input;
  const spec = cadence.every ? { intervals: cadence.every.map((every) => ({ every })) } : { cronExpressions: cadence.cronExpressions };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: scheduledSecurityReviewWorkflowType,
    workflowId: reviewScheduleId,
    taskQueue,
    args: [input],
  };
  const handle = client.schedule.getHandle(reviewScheduleId);
  try {
    await handle.update((previous) => ({
      ...previous,
      spec,
      action,
      state: { ...previous.state, paused: paused ?? previous.state.paused },
    }));
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    await client.schedule.create({ scheduleId: reviewScheduleId, spec, action, state: { paused: paused ?? false } });
  }
  return handle.describe();
}
