import type { Client } from '@temporalio/client';
import type { ReviewState } from '../domain/security-review';
import { reviewStateQuery } from '../workflows/review/definitions';

/**
 * Where a review's workflow stands, for the API and the inbox alike; null when it cannot say (it
 * has finished and left retention, or Temporal is unreachable): the stored review still answers.
 */
export function liveReviewState(client: Client, workflowId: string): Promise<ReviewState | null> {
  return client.workflow
    .getHandle(workflowId)
    .query(reviewStateQuery)
    .catch(() => null);
}
