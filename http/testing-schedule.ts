import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { allActiveControls, isControlOverdue } from '../db/controls';
import type { Database } from '../db/database';
import { testHistories } from '../db/test-runs';
import { cadenceText } from '../domain/controls';
import { describeTestSchedule } from '../temporal/security-test-schedule';

/** The testing schedule as people read it, overdue controls first; the API and the inbox show it. */
export async function testingSchedule(db: Kysely<Database>, client: Client, window: { from: Date; to: Date; now: Date }) {
  const { from, to, now } = window;
  const controls = await allActiveControls(db);
  const histories = await testHistories(
    db,
    controls.map((c) => c.id),
  );
  const descriptions = await Promise.all(controls.map((c) => (c.schedule ? describeTestSchedule(client, c.id) : undefined)));
  const items = controls.map((control, index) => {
    const history = histories.get(control.id);
    const description = descriptions[index];
    const lastRun = history?.lastRun;
    return {
      controlId: control.id,
      name: control.name,
      owner: control.owner,
      process: control.process,
      method: control.procedure.type,
      cadence: cadenceText(control.schedule),
      cadenceMs: control.cadence_ms,
      paused: description?.state.paused ?? control.schedule_paused,
      pauseNote: description?.state.paused ? (description.state.note ?? null) : null,
      overdue: isControlOverdue(control, history?.lastTestedAt ?? null, now),
      lastRun: lastRun
        ? {
            id: lastRun.id,
            result: lastRun.result,
            status: lastRun.status,
            startedAt: lastRun.started_at.toISOString(),
            finishedAt: lastRun.finished_at?.toISOString() ?? null,
          }
        : null,
      lastTestedAt: history?.lastTestedAt?.toISOString() ?? null,
      nextRunTimes: (description?.info.nextActionTimes ?? [])
        .filter((time) => time >= from && time <= to)
        .map((time) => time.toISOString()),
      scheduleState: control.schedule && !description ? ('missing' as const) : ('ok' as const),
    };
  });
  // Overdue first, then the soonest next run, then unscheduled controls by name.
  const soonest = (item: (typeof items)[number]) => (item.nextRunTimes[0] ? Date.parse(item.nextRunTimes[0]) : Number.POSITIVE_INFINITY);
  items.sort((a, b) => Number(b.overdue) - Number(a.overdue) || soonest(a) - soonest(b) || a.name.localeCompare(b.name));
  return items;
}
