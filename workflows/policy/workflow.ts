import { systemActor } from '../../domain/roles';
import { proxyActivities } from '@temporalio/workflow';
import type { ReviewActivities } from '../../activities/reviews';
import { HumanTasks } from '../human-task';
import { endingVisibly } from '../permanent-failure';
import type { PolicyApprovalInput, PolicyApprovalResult } from '../../domain/policy';
import { publishSearchFields } from '../search-attributes';

// A single PostgreSQL write: retried until the database is back, never dropped.
// No attempt limit on purpose: what PostgreSQL refuses for good fails at once, non-retryable
// (activities/permanent-failures.ts), so only unavailability (and a bug, until a fix is deployed) retries.
const { settlePolicyVersion } = proxyActivities<ReviewActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/** A new policy version takes effect once the Security Manager (not its author) approves it. */
export async function policyApprovalWorkflow(input: PolicyApprovalInput): Promise<PolicyApprovalResult> {
  // A permanent failure (PostgreSQL refusing the data for good) ends it visibly, not wedged.
  return endingVisibly(
    {
      record: { process: 'policy', policyId: input.policyId, version: input.version },
      label: `Approval of version ${input.version} of the policy "${input.title}"`,
      subject: { type: 'policy', id: input.policyId },
    },
    () => runPolicyApproval(input),
  );
}

async function runPolicyApproval(input: PolicyApprovalInput): Promise<PolicyApprovalResult> {
  const tasks = new HumanTasks();
  publishSearchFields({ process: 'policy', subjectId: input.policyId, status: 'pending_approval' }, { title: input.title });
  const decision = await tasks.run({
    kind: 'policy.approval',
    title: `Approve version ${input.version} of the policy "${input.title}"`,
    details: { policyId: input.policyId, version: input.version },
    subject: { type: 'policy', id: input.policyId },
    allowedRoles: ['security_manager'],
    outcomes: ['approved', 'rejected'],
    requester: input.proposedBy,
  });
  const approved = decision.outcome === 'approved';
  publishSearchFields({ status: decision.outcome });
  await settlePolicyVersion({
    policyId: input.policyId,
    version: input.version,
    approved,
    decidedBy: decision.decidedBy[0] ?? systemActor.principalId,
    comment: decision.decisions.at(-1)?.comment ?? null,
  });
  return { approved };
}
