import { bumpUpdate, finishSignal, updatableWorkflow } from '../baseline-workflows';
import type { Bench } from '../figures';
import { baselineTaskQueue, eventually, inParallel, percentile, timed, uniqueId, type WardenStack } from '../harness';
import { driveToClosed, drivingAnalyst, reportIncident } from '../task-driver';

/** `lanes` incidents progressing at all times (each, once closed, replaced by a new one) until `stop()`. */
function progressingIncidents(stack: WardenStack, lanes: number) {
  let stopping = false;
  const running = inParallel(lanes, lanes, async (lane) => {
    for (let round = 0; !stopping; round++) {
      await driveToClosed(stack.call, await reportIncident(stack.call, stack.ciId, `background ${lane}.${round}`), () => stopping);
    }
  });
  return async () => {
    stopping = true;
    await running;
  };
}

/**
 * POST /tasks/:id/decision p50 and p99 against a bare executeUpdate, taken in turns while the same
 * background incidents progress, so both see the same load.
 */
export const decisionBench: Bench = {
  name: 'decision',
  async measure(stack, { decisions, background }) {
    const acknowledgements: string[] = [];
    for (let i = 0; i < decisions; i++) {
      const incidentId = await reportIncident(stack.call, stack.ciId, `decided ${i}`);
      acknowledgements.push(
        await eventually('the acknowledge task', async () => {
          const row = await stack.db
            .selectFrom('human_tasks')
            .select('id')
            .where('subject_id', '=', incidentId)
            .where('kind', '=', 'incident.acknowledge')
            .executeTakeFirst();
          return row?.id;
        }),
      );
    }
    const target = await stack.scratch.env.client.workflow.start(updatableWorkflow, {
      taskQueue: baselineTaskQueue,
      workflowId: uniqueId('updatable'),
    });
    await target.executeUpdate(bumpUpdate, { args: [1] });

    const stop = progressingIncidents(stack, background);
    const wardenMs: number[] = [];
    const floorMs: number[] = [];
    try {
      for (const taskId of acknowledgements) {
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
        floorMs.push(await timed(() => target.executeUpdate(bumpUpdate, { args: [1] })));
      }
    } finally {
      await stop();
      await target.signal(finishSignal);
    }
    const under = `while ${background} incidents progress`;
    return [
      {
        path: `decision p50 (POST /tasks/:id/decision, ${under})`,
        unit: 'ms',
        warden: percentile(wardenMs, 50),
        floor: percentile(floorMs, 50),
        goal: { kind: 'times floor', ratio: 2 },
      },
      {
        path: 'decision p99',
        unit: 'ms',
        warden: percentile(wardenMs, 99),
        floor: percentile(floorMs, 99),
        goal: { kind: 'times floor', ratio: 3 },
      },
    ];
  },
};
