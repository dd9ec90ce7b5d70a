import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle, type WorkflowStartOptions } from '@temporalio/client';
import { WorkflowIdReusePolicy, type Workflow } from '@temporalio/common';

/**
 * Starts a workflow whose id is a business key, once. The default reuse policy would start a
 * second run after the first completed; REJECT_DUPLICATE keeps one per id forever, and "already
 * started" is success: the caller gets the existing run.
 */
export async function startOnce<T extends Workflow>(
  client: Client,
  workflow: T | string,
  options: WorkflowStartOptions<T>,
): Promise<{ handle: WorkflowHandle<T>; started: boolean }> {
  try {
    const handle = await client.workflow.start<T>(workflow, {
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      ...options,
    });
    return { handle, started: true };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      return { handle: client.workflow.getHandle<T>(options.workflowId), started: false };
    }
    throw error;
  }
}
