import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { rematchSignal } from '../workflows/advisory/definitions';

/**
 * Tells an advisory's running workflow to match again (the advisory was revised, or a CI's
 * components changed); a closed one has nothing left to tell.
 */
export async function requestRematch(client: Client, workflowId: string, reason: string): Promise<void> {
  try {
    await client.workflow.getHandle(workflowId).signal(rematchSignal, { reason });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}
