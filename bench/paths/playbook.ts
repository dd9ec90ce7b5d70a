import { oneActivityWorkflow } from '../baseline-workflows';
import type { Bench } from '../figures';
import { baselineTaskQueue, inParallel, perSecond, timed, uniqueId } from '../harness';
import { driveToClosed, reportIncident } from '../task-driver';

/** Incidents reported and driven through their whole playbook per second, against one-activity workflows per second. */
export const playbookBench: Bench = {
  name: 'playbook',
  async measure(stack, { playbooks, concurrency }) {
    // A playbook that stops moving fails the run rather than holding it for ever.
    const deadline = Date.now() + 600_000;
    const overdue = () => Date.now() > deadline;
    const wardenMs = await timed(() =>
      inParallel(playbooks, concurrency, async (i) => {
        const incidentId = await reportIncident(stack.call, stack.ciId, `playbook ${i}`);
        if (!(await driveToClosed(stack.call, incidentId, overdue)))
          throw new Error(`incident ${incidentId} did not close within 10 minutes`);
      }),
    );
    const floorMs = await timed(() =>
      inParallel(playbooks, concurrency, () =>
        stack.scratch.env.client.workflow.execute(oneActivityWorkflow, {
          taskQueue: baselineTaskQueue,
          workflowId: uniqueId('one-activity'),
        }),
      ),
    );
    return [
      {
        path: `playbook throughput (${concurrency} at once, decisions scripted)`,
        unit: '/s',
        warden: perSecond(playbooks, wardenMs),
        floor: perSecond(playbooks, floorMs),
        goal: { kind: 'share of floor', ratio: 0.4 },
      },
    ];
  },
};
