import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { BaselineActivities } from '../../activities/baseline';
import type { BaselineApprovalInput, BaselineApprovalResult } from '../../domain/baseline';
import { systemActor } from '../../domain/roles';
import { HumanTasks } from '../human-task';
import { endingVisibly } from '../permanent-failure';
import { publishSearchFields } from '../search-attributes';

// Single PostgreSQL writes: retried until the database is back, never dropped.
// No attempt limit on purpose: what PostgreSQL refuses for good fails at once, non-retryable
// (activities/permanent-failures.ts), so only unavailability (and a bug, until a fix is deployed) retries.
const baseline = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/**
 * A new version of the security baseline takes effect once a second Security Manager approves it:
 * the proposer may not decide their own proposal (the task refuses them, and the refusal is audited).
 */
export async function baselineApprovalWorkflow(input: BaselineApprovalInput): Promise<BaselineApprovalResult> {
  // A permanent failure (PostgreSQL refusing the data for good) ends it visibly, not wedged.
  return endingVisibly(
    {
      record: { process: 'baseline', version: input.version },
      label: `Approval of version ${input.version} of the security baseline`,
      subject: { type: 'baseline', id: String(input.version) },
    },
    () => runBaselineApproval(input),
  );
}

async function runBaselineApproval(input: BaselineApprovalInput): Promise<BaselineApprovalResult> {
  await baseline.linkBaselineApproval({ version: input.version, workflowId: workflowInfo().workflowId });
  const tasks = new HumanTasks();
  publishSearchFields({ process: 'baseline', subjectId: String(input.version), status: 'pending_approval' }, { reason: input.reason });
  const decision = await tasks.run({
    kind: 'baseline.approval',
    title: `Approve version ${input.version} of the security baseline`,
    details: { version: input.version, reason: input.reason },
    subject: { type: 'baseline', id: String(input.version) },
    allowedRoles: ['security_manager'],
    outcomes: ['approved', 'rejected'],
    requester: input.proposedBy,
  });
  const approved = decision.outcome === 'approved';
  publishSearchFields({ status: decision.outcome });
  await baseline.settleBaselineVersion({
    version: input.version,
    approved,
    decidedBy: decision.decidedBy[0] ?? systemActor.principalId,
    comment: decision.decisions.at(-1)?.comment ?? null,
  });
  return { approved };
}
