// Access management's shared step: an access request grants and revokes through it, and a review
// campaign revokes and reduces through it. It sits beside human-task.ts rather than in either
// process's folder because it belongs to both, and one process's folder importing another's would
// be a sideways arrow between processes.
import { proxyActivities } from '@temporalio/workflow';
import type { AccessActivities } from '../activities/access';
import type { ProvisioningOutcome, ProvisioningRequest } from '../domain/access';
import { systemActor } from '../domain/roles';
import type { HumanTasks } from './human-task';

// A webhook call waits up to 10 s for the system; retried with backoff while it answers 5xx or is
// unreachable, because an approved grant or revocation must happen, not be dropped.
const { runProvisioningAction, confirmManualProvisioning } = proxyActivities<AccessActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', maximumInterval: '5m' },
});

/**
 * Carries out a grant, revocation or reduction: by the system's webhook, or — when the system has
 * none — by an admin who does it by hand and confirms. Either way it ends recorded.
 */
export async function provision(tasks: HumanTasks, request: ProvisioningRequest, title: string): Promise<ProvisioningOutcome> {
  const outcome = await runProvisioningAction(request);
  if (outcome.status !== 'awaiting_manual') return outcome;
  const task = await tasks.run({
    kind: 'access.provisioning',
    title,
    details: {
      actionId: request.actionId,
      system: request.ciId,
      account: request.accountId,
      operation: request.operation,
      entitlements: request.entitlements,
    },
    subject: request.subject,
    allowedRoles: ['admin'],
    outcomes: ['done', 'failed'],
    forbidSelfDecision: false,
  });
  const done = task.outcome === 'done';
  await confirmManualProvisioning({
    actionId: request.actionId,
    done,
    confirmedBy: task.decidedBy[0] ?? systemActor.principalId,
    taskId: task.taskId,
  });
  return { status: done ? 'confirmed' : 'failed', method: 'manual', detail: `confirmed by ${task.decidedBy.join(', ')}` };
}
