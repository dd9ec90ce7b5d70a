import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
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
  const scheduleId = makeDrillScheduleId(input.category);
  const { cadence } = input;
  const spec = cadence.every ? { intervals: cadence.every.map((every) => ({ every })) } : { cronExpressions: cadence.cronExpressions };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: scheduledDrillWorkflowType,
    workflowId: scheduleId,
    taskQueue,
    args: [input],
  };
  const handle = client.schedule.getHandle(scheduleId);
  try {
    await handle.update((previous) => ({
      ...previous,
      spec,
      action,
      state: { ...previous.state, paused: paused ?? previous.state.paused },
    }));
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error;
    await client.schedule.create({ scheduleId, spec, action, state: { paused: paused ?? false } });
  }
  return handle.describe();
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
