import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
} from '@temporalio/client';
import { cadenceFromTimes, type ControlScheduleSpec } from '../domain/controls';
import { durationMs } from '../domain/duration';
import {
  makeSecurityTestScheduleId,
  makeSecurityTestWorkflowIdPrefix,
  securityTestWorkflowType,
  type SecurityTestInput,
} from '../domain/security-test';

/** Temporal will not take a catch-up window shorter than this. */
const minimumCatchupWindowMs = 10_000;

function specOf(schedule: ControlScheduleSpec): ScheduleSpec {
  return {
    ...(schedule.every ? { intervals: [{ every: durationMs(schedule.every) }] } : { cronExpressions: [schedule.cron as string] }),
    ...(schedule.startAt && { startAt: new Date(schedule.startAt) }),
    ...(schedule.endAt && { endAt: new Date(schedule.endAt) }),
    ...(schedule.jitter && { jitter: durationMs(schedule.jitter) }),
  };
}

function actionOf(
  controlId: string,
  taskQueue: string,
): ScheduleOptionsStartWorkflowAction<(input: SecurityTestInput) => Promise<unknown>> {
  const input: SecurityTestInput = { controlId, requestedBy: 'schedule' };
  return {
    type: 'startWorkflow',
    workflowType: securityTestWorkflowType,
    // Temporal appends the scheduled time: security-test/<controlId>-2026-11-24T03:00:00Z.
    workflowId: makeSecurityTestWorkflowIdPrefix(controlId),
    taskQueue,
    args: [input],
  };
}

/**
 * Overlap SKIP: a run never starts while the control's previous run is still open (a manual test
 * waiting for its tester holds back the next one; the control then shows as overdue).
 * Catch-up: after the Temporal server was down, only slots missed within the last cadence are
 * taken, which is at most one slot; SKIP (not BUFFER_ONE) keeps any further one from queueing
 * behind it. So a missed test runs once, not once per missed slot. BUFFER_ONE would run it twice:
 * once at once and once more the moment the first finished.
 */
function policiesOf(cadenceMs: number | null) {
  return {
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: Math.max(minimumCatchupWindowMs, cadenceMs ?? minimumCatchupWindowMs),
  };
}

export interface ScheduleResult {
  cadenceMs: number | null;
  paused: boolean;
  description: ScheduleDescription;
}

/**
 * Creates or replaces the Schedule `security-test/<controlId>`. A cron's cadence is read back from
 * the run times Temporal computes for it, before jitter is added, then set as the catch-up window.
 */
export async function putTestSchedule(
  client: Client,
  taskQueue: string,
  controlId: string,
  schedule: ControlScheduleSpec,
  pause: { paused?: boolean; note: string },
): Promise<ScheduleResult> {
  const handle = client.schedule.getHandle(makeSecurityTestScheduleId(controlId));
  const action = actionOf(controlId, taskQueue);
  const write = async (spec: ScheduleSpec, cadenceMs: number | null) => {
    try {
      // Whether it is paused stays as it was; a pause or unpause below carries its own note.
      await handle.update((previous) => ({
        spec,
        action,
        policies: policiesOf(cadenceMs),
        state: { paused: previous.state.paused, note: previous.state.note },
      }));
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
      await client.schedule.create({
        scheduleId: handle.scheduleId,
        spec,
        action,
        policies: policiesOf(cadenceMs),
        state: { paused: pause.paused ?? false, note: pause.note },
      });
    }
  };

  let cadenceMs = schedule.every ? durationMs(schedule.every) : null;
  if (cadenceMs === null) {
    await write(specOf({ ...schedule, jitter: undefined }), null);
    cadenceMs = cadenceFromTimes((await handle.describe()).info.nextActionTimes);
  }
  await write(specOf(schedule), cadenceMs);
  const current = await handle.describe();
  if (pause.paused !== undefined && current.state.paused !== pause.paused) {
    await (pause.paused ? handle.pause(pause.note) : handle.unpause(pause.note));
  }
  const description = await handle.describe();
  return { cadenceMs, paused: description.state.paused, description };
}

/** The Schedule, or undefined if there is none. */
export async function describeTestSchedule(client: Client, controlId: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(makeSecurityTestScheduleId(controlId)).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return undefined;
    throw error;
  }
}

/** Removes the Schedule; false if there was none. Runs already started finish on their own. */
export async function deleteTestSchedule(client: Client, controlId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(makeSecurityTestScheduleId(controlId)).delete();
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}

export async function setTestSchedulePaused(client: Client, controlId: string, paused: boolean, note: string): Promise<boolean> {
  const handle = client.schedule.getHandle(makeSecurityTestScheduleId(controlId));
  try {
    await (paused ? handle.pause(note) : handle.unpause(note));
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}

/**
 * Starts a run now through the Schedule, so it shows among the Schedule's actions. SKIP: if a run
 * slipped in since the caller checked, this one is dropped rather than run beside it.
 */
export async function triggerTestSchedule(client: Client, controlId: string): Promise<boolean> {
  try {
    await client.schedule.getHandle(makeSecurityTestScheduleId(controlId)).trigger(ScheduleOverlapPolicy.SKIP);
    return true;
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) return false;
    throw error;
  }
}
