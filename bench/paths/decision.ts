import { setTimeout as sleep } from 'node:timers/promises';
import { bumpUpdate, finishSignal, updatableWorkflow } from '../baseline-workflows';
import type { Bench } from '../figures';
import { baselineTaskQueue, eventually, inParallel, incidentsSettled, percentile, timed, uniqueId, type WardenStack } from '../harness';
import { driveToClosed, drivingAnalyst, reportIncident } from '../task-driver';

/**
 * `lanes` incidents progressing at all times (each, once closed, replaced by a new one) until
 * `stop()`. With `thinkMs`, the person deciding takes between half and one and a half times it over
 * each task, and each lane begins at a random point of that, so the lanes do not move in step and
 * the load is the same from the first sample on; without, every task is decided as soon as it is seen.
 */
function progressingIncidents(stack: WardenStack, lanes: number, thinkMs: number) {
  let stopping = false;
  const stopped = new AbortController();
  const pause = (ms: number) => sleep(ms, undefined, { signal: stopped.signal }).catch(() => {});
  const think = thinkMs > 0 ? () => pause(thinkMs * (0.5 + Math.random())) : undefined;
  const running = inParallel(lanes, lanes, async (lane) => {
    if (thinkMs > 0) await pause(Math.random() * thinkMs);
    for (let round = 0; !stopping; round++) {
      await driveToClosed(stack.call, await reportIncident(stack.call, stack.ciId, `background ${lane}.${round}`), () => stopping, think);
    }
  });
  return async () => {
    stopping = true;
    stopped.abort();
    await running;
  };
}

/** Acknowledge tasks of fresh incidents, one per decision to time. */
async function acknowledgeTasks(stack: WardenStack, count: number, label: string): Promise<{ taskId: string; incidentId: string }[]> {
  const tasks: { taskId: string; incidentId: string }[] = [];
  for (let i = 0; i < count; i++) {
    const incidentId = await reportIncident(stack.call, stack.ciId, `decided ${label} ${i}`);
    const taskId = await eventually('the acknowledge task', async () => {
      const row = await stack.db
        .selectFrom('human_tasks')
        .select('id')
        .where('subject_id', '=', incidentId)
        .where('kind', '=', 'incident.acknowledge')
        .executeTakeFirst();
      return row?.id;
    });
    tasks.push({ taskId, incidentId });
  }
  return tasks;
}

/**
 * POST /tasks/:id/decision p50 and p99 against a bare executeUpdate, taken in turns while the same
 * background incidents progress, so both see the same load. A decided incident goes on working (its
 * status, its SLA target, the triage task recorded and announced); the bare Update waits until it
 * has, so the floor is not timed in the wake of the decision before it, nor the next decision.
 * Twice: while people take `thinkSeconds` over each background task, as a team working 200 open
 * incidents does (the goal's load), and while the background decides every task the moment it
 * opens. That second load is closed-loop: it saturates the machine whatever Warden's speed, each
 * lane's next request waiting only for its last, so a decision there queues behind every lane's work
 * and its latency grows with the lanes; the bare Update's worker runs none of that work.
 */
export const decisionBench: Bench = {
  name: 'decision',
  async measure(stack, { decisions, background, thinkSeconds }) {
    const paced = await acknowledgeTasks(stack, decisions, 'paced');
    const saturated = await acknowledgeTasks(stack, decisions, 'saturated');
    await incidentsSettled(
      stack,
      [...paced, ...saturated].map((task) => task.incidentId),
    );
    const target = await stack.scratch.env.client.workflow.start(updatableWorkflow, {
      taskQueue: baselineTaskQueue,
      workflowId: uniqueId('updatable'),
    });
    await target.executeUpdate(bumpUpdate, { args: [1] });

    /** Each task's decision, then a bare Update, in turns while `lanes` progress; answers both series. */
    const timedInTurns = async (tasks: { taskId: string; incidentId: string }[], thinkMs: number) => {
      const stop = progressingIncidents(stack, background, thinkMs);
      const wardenMs: number[] = [];
      const floorMs: number[] = [];
      try {
        for (const { taskId, incidentId } of tasks) {
          wardenMs.push(
            await timed(async () => {
              // With an Idempotency-Key, a retry after a 503 that came once the decision was in answers the decision again.
              const decided = await stack.call(
                'POST',
                `/tasks/${taskId}/decision`,
                drivingAnalyst,
                { outcome: 'acknowledged' },
                { 'idempotency-key': taskId },
              );
              if (decided.status !== 200) throw new Error(`deciding ${taskId}: ${decided.status} ${JSON.stringify(decided.body)}`);
            }),
          );
          // The acknowledged incident goes on to its triage task (its status, its SLA target met, the
          // task recorded and announced); the bare Update is timed once it has, not in its wake.
          await incidentsSettled(stack, [incidentId], 2);
          floorMs.push(await timed(() => target.executeUpdate(bumpUpdate, { args: [1] })));
        }
      } finally {
        await stop();
      }
      return { wardenMs, floorMs };
    };
    try {
      const atPace = await timedInTurns(paced, thinkSeconds * 1000);
      const flatOut = await timedInTurns(saturated, 0);
      const pace = `while ${background} incidents progress, ${thinkSeconds} s over each task`;
      const flat = `while ${background} incidents are decided as fast as answered`;
      return [
        { path: `decision p50 (POST /tasks/:id/decision, ${pace})`, series: atPace, p: 50, ratio: 2 },
        { path: 'decision p99', series: atPace, p: 99, ratio: 3 },
        { path: `decision p50, saturated (${flat})`, series: flatOut, p: 50, ratio: 2 },
        { path: 'decision p99, saturated', series: flatOut, p: 99, ratio: 3 },
      ].map(({ path, series, p, ratio }) => ({
        path,
        unit: 'ms',
        warden: percentile(series.wardenMs, p),
        floor: percentile(series.floorMs, p),
        goal: { kind: 'times floor', ratio },
      }));
    } finally {
      await target.signal(finishSignal);
    }
  },
};
