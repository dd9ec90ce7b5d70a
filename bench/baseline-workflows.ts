import { condition, defineSignal, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as activities from './baseline-activities';

export const bumpUpdate = defineUpdate<number, [number]>('bumpUpdate');
export const finishSignal = defineSignal('finishSignal');

const { noopActivity } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

/** The cheapest workflow Temporal can start: the baseline for "incidents per second". */
export async function emptyWorkflow(): Promise<void> {}

/** One activity and done: the baseline for "playbooks per second". */
export async function oneActivityWorkflow(): Promise<void> {
  await noopActivity();
}

/** Accepts Updates until told to finish: the baseline for a decision's round trip. */
export async function updatableWorkflow(): Promise<number> {
  let total = 0;
  let finished = false;
  setHandler(bumpUpdate, (by) => {
    total += by;
    return total;
  });
  setHandler(finishSignal, () => {
    finished = true;
  });
  await condition(() => finished);
  return total;
}
