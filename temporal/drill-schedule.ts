import type { Client, ScheduleDescription } from '@temporalio/client';
import { putCadenceSchedule } from './cadence-schedule';
import { drillSchedulePrefix, makeDrillScheduleId, scheduledDrillWorkflowType, type ScheduledDrillInput } from '../domain/drill';

/**
 * Creates or changes the category's drill Schedule `incident-drill/<category>`. The cadence travels
 * in the input too, as with the review Schedule: Temporal describes cron expressions back as
 * calendars. Whether it is paused stays as it was unless `paused` says otherwise.
 */
export async function putDrillSchedule(
  client: Client,
  taskQueue: string,
  input: ScheduledDrillInput,
  paused: boolean | undefined,
): Promise<ScheduleDescription> {
  return putCadenceSchedule(client, {
    scheduleId: makeDrillScheduleId(input.category),
    workflowType: scheduledDrillWorkflowType,
    taskQueue,
    cadence: input.cadence,
    input,
    paused,
  });
}

/** Every category's drill Schedule, described. */
export async function listDrillSchedules(client: Client): Promise<ScheduleDescription[]> {
  const descriptions: ScheduleDescription[] = [];
  for await (const summary of client.schedule.list()) {
    if (summary.scheduleId.startsWith(drillSchedulePrefix))
      descriptions.push(await client.schedule.getHandle(summary.scheduleId).describe());
  }
  return descriptions.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}
