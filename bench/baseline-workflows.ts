import { condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';

export const bumpUpdate = defineUpdate<number, [number]>('bumpUpdate');
export const finishSignal = defineSignal('finishSignal');

/** The cheapest workflow Temporal can start: the baseline for "incidents per second". */
export async function emptyWorkflow(): Promise<void> {}

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
