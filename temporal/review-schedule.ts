import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { putCadenceSchedule } from './cadence-schedule';
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
  return putCadenceSchedule(client, {
    scheduleId: reviewScheduleId,
    workflowType: scheduledSecurityReviewWorkflowType,
    taskQueue,
    cadence: input.cadence,
    input,
    paused,
  });
}
