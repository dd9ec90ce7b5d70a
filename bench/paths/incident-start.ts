import { emptyWorkflow } from '../baseline-workflows';
import type { Bench } from '../figures';
import { baselineTaskQueue, inParallel, perSecond, timed, uniqueId } from '../harness';
import { reportIncident } from '../task-driver';

/** POST /incidents per second at `concurrency` at once, against bare starts of an empty workflow. */
export const incidentStartBench: Bench = {
  name: 'incident-start',
  async measure(stack, { starts, concurrency }) {
    const startEmpty = () =>
      stack.scratch.env.client.workflow.start(emptyWorkflow, { taskQueue: baselineTaskQueue, workflowId: uniqueId('empty') });
    // The first request of each path pays for JIT, connections and the bundle: not measured.
    await reportIncident(stack.call, stack.ciId, 'warm-up');
    await startEmpty();
    const wardenMs = await timed(() => inParallel(starts, concurrency, (i) => reportIncident(stack.call, stack.ciId, `start ${i}`)));
    const floorMs = await timed(() => inParallel(starts, concurrency, startEmpty));
    return [
      {
        path: `incident start (POST /incidents, ${concurrency} at once)`,
        unit: '/s',
        warden: perSecond(starts, wardenMs),
        floor: perSecond(starts, floorMs),
        goal: { kind: 'share of floor', ratio: 0.8 },
      },
    ];
  },
};
