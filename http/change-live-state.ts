import type { Client } from '@temporalio/client';
import { changeStateQuery } from '../workflows/change/definitions';

/** How long a change's page or GET /changes/:id waits for the gate to answer its Query before showing the record alone. */
const liveStateDeadlineMs = 2000;

/** The gate's live state, or null when it cannot answer in time (no worker, or its history is gone). */
export async function changeLiveState(client: Client, workflowId: string) {
  try {
    const state = await client.connection.withDeadline(Date.now() + liveStateDeadlineMs, () =>
      client.workflow.getHandle(workflowId).query(changeStateQuery),
    );
    return {
      status: state.status,
      revision: state.revision,
      risk: state.risk,
      waitingFor: state.waitingFor,
      openTaskIds: state.openTaskIds,
      reviewExpiresAt: state.reviewExpiresAt,
    };
  } catch {
    // No worker to answer, or the gate's history is gone: the record alone is the answer.
    return null;
  }
}
