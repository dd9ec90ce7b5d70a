import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';

/** How often a Schedule fires, as people set it: intervals or cron expressions. */
export interface Cadence {
  every?: string[];
  cronExpressions?: string[];
}

/**
 * Creates the Schedule `scheduleId`, or changes its cadence and action if it exists, starting
 * `workflowType` with `input` under the Schedule's id. Whether it is paused stays as it was unless
 * `paused` says otherwise. The review and drill Schedules are both made this way.
 */
export async function putCadenceSchedule(
  client: Client,
  options: { scheduleId: string; workflowType: string; taskQueue: string; cadence: Cadence; input: unknown; paused: boolean | undefined },
): Promise<ScheduleDescription> {
  const { scheduleId, cadence, paused } = options;
  const spec = cadence.every ? { intervals: cadence.every.map((every) => ({ every })) } : { cronExpressions: cadence.cronExpressions };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: options.workflowType,
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [options.input],
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
