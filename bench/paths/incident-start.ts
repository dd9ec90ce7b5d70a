import { emptyWorkflow } from '../baseline-workflows';
import type { Bench } from '../figures';
import { baselineTaskQueue, inParallel, incidentsSettled, machineCpuPerItem, perSecond, timed, uniqueId } from '../harness';
import { reportIncident } from '../task-driver';

/**
 * POST /incidents per second at `concurrency` at once, against bare starts of an empty workflow.
 * Each side starts on a quiet worker and server: the incidents a run started finish their work
 * (registration, SLA clocks, the acknowledge task and its notifications, on the worker in the same
 * process) before the floor is measured, and the floor's workflows complete before the next run.
 * Measured back to back instead, the floor ran under the work Warden's incidents left behind, and
 * each run's Warden under the run before it. The machine's CPU per item is counted on each side
 * through that work: an incident's until its acknowledge task is announced, an empty workflow's
 * until it completes.
 */
export const incidentStartBench: Bench = {
  name: 'incident-start',
  async measure(stack, { starts, concurrency }) {
    const startEmpty = () =>
      stack.scratch.env.client.workflow.start(emptyWorkflow, { taskQueue: baselineTaskQueue, workflowId: uniqueId('empty') });
    // The first request of each path pays for JIT, connections and the bundle: not measured.
    await incidentsSettled(stack, [await reportIncident(stack.call, stack.ciId, 'warm-up')]);
    await (await startEmpty()).result();
    const incidentIds = new Array<string>(starts);
    let wardenMs = 0;
    const wardenCpu = await machineCpuPerItem(starts, async () => {
      wardenMs = await timed(() =>
        inParallel(starts, concurrency, async (i) => {
          incidentIds[i] = await reportIncident(stack.call, stack.ciId, `start ${i}`);
        }),
      );
      await incidentsSettled(stack, incidentIds);
    });
    const emptyWorkflows = new Array<Awaited<ReturnType<typeof startEmpty>>>(starts);
    let floorMs = 0;
    const floorCpu = await machineCpuPerItem(starts, async () => {
      floorMs = await timed(() =>
        inParallel(starts, concurrency, async (i) => {
          emptyWorkflows[i] = await startEmpty();
        }),
      );
      await Promise.all(emptyWorkflows.map((workflow) => workflow.result()));
    });
    return [
      {
        path: `incident start (POST /incidents, ${concurrency} at once)`,
        unit: '/s',
        warden: perSecond(starts, wardenMs),
        floor: perSecond(starts, floorMs),
        goal: { kind: 'share of floor', ratio: 0.8 },
        cpu: { warden: wardenCpu, floor: floorCpu },
      },
    ];
  },
};
