import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { WithdrawAdvisoryRequest } from '../domain/advisory';
import { rematchSignal, withdrawSignal } from '../workflows/advisory/definitions';

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

/**
 * Tells an advisory's running workflow that its source withdrew it: its running remediations close
 * as not applicable. A workflow that has ended has nothing left to close.
 */
export async function withdraw(client: Client, workflowId: string, request: WithdrawAdvisoryRequest): Promise<void> {
  try {
    await client.workflow.getHandle(workflowId).signal(withdrawSignal, request);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}
