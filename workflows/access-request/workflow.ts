import { patched, proxyActivities, sleep, uuid4, workflowInfo } from '@temporalio/workflow';
import type { AccessActivities } from '../../activities/access';
import type { AccessRequestInput, AccessRequestResult, AccessRequestStatusChange } from '../../domain/access';
import type { AccessRequestStatus } from '../../domain/access-review';
import { durationMs } from '../../domain/duration';
import { systemActor } from '../../domain/roles';
import { HumanTasks, type TaskResult } from '../human-task';
import { provision } from '../provisioning';
import { endingVisibly } from '../permanent-failure';
import { publishSearchFields } from '../search-attributes';

// Access request records are small PostgreSQL writes: retry until the database is back, never drop one.
// No attempt limit on purpose: what PostgreSQL refuses for good fails at once, non-retryable
// (activities/permanent-failures.ts), so only unavailability (and a bug, until a fix is deployed) retries.
const access = proxyActivities<AccessActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/** Requests that would create a separation-of-duties conflict go to the Security Manager for an exception. */
export const sodExceptionPatch = 'access-request-sod-exception';
/** Approvals of requests filed with a deadline escalate when it passes. */
export const approvalDeadlinePatch = 'access-request-approval-deadline';

/**
 * An access request under separation of duties: the system owner approves, and for privileged
 * entitlements the Security Manager too; neither the requester nor the beneficiary may approve, nor
 * may one person give both approvals. Approved access is provisioned and, when time-limited,
 * revoked by this workflow when it expires.
 */
export async function accessRequestWorkflow(input: AccessRequestInput): Promise<AccessRequestResult> {
  // A permanent failure (PostgreSQL refusing the data for good) ends it visibly, not wedged.
  return endingVisibly(
    {
      record: { process: 'access_request', requestId: input.requestId },
      label: `Access request ${input.requestId}`,
      subject: { type: 'access_request', id: input.requestId },
    },
    () => runAccessRequest(input),
  );
}

async function runAccessRequest(input: AccessRequestInput): Promise<AccessRequestResult> {
  const tasks = new HumanTasks();
  const subject = { type: 'access_request' as const, id: input.requestId };
  const setStatus = (
    status: AccessRequestStatus,
    actor: string,
    extra: Omit<AccessRequestStatusChange, 'requestId' | 'status' | 'actor'> = {},
  ) => {
    publishSearchFields({ status });
    return access.setAccessRequestStatus({ requestId: input.requestId, status, actor, ...extra });
  };
  publishSearchFields({ process: 'access-request', subjectId: input.requestId, status: 'pending_owner' });

  const registered = await access.registerAccessRequest({ ...input, workflowId: workflowInfo().workflowId });
  const names = input.entitlements.map((e) => e.name);
  const what = `${names.join(', ')} on ${registered.systemName} for ${input.beneficiary}`;
  const details = {
    system: input.ciId,
    account: input.accountId,
    beneficiary: input.beneficiary,
    entitlements: input.entitlements,
    justification: input.justification,
    privileged: registered.privileged,
  };
  const parties = [input.requester, input.beneficiary];
  // Approvals escalate when undecided: the Security Manager is told and admins may decide. Requests
  // filed before deadlines existed carry none, and the marker keeps their histories unchanged.
  const deadline = input.approvalDeadline && patched(approvalDeadlinePatch) ? input.approvalDeadline : undefined;
  const escalation = deadline
    ? {
        deadline,
        // Once: the request's workflow does not continue-as-new, so an endless reminder loop would grow its history.
        escalations: [{ notifyRoles: ['security_manager' as const], addRoles: ['admin' as const], extendBy: deadline }],
      }
    : {};

  // The owner approves; an owner who is a party to the request is replaced by the admins.
  const ownerIsParty = parties.includes(registered.systemOwner);
  const ownerApproval = await tasks.run({
    kind: 'access.owner-approval',
    title: `Approve access: ${what}`,
    details,
    subject,
    allowedRoles: ownerIsParty ? ['admin'] : [],
    assignees: ownerIsParty ? [] : [registered.systemOwner],
    outcomes: ['approved', 'rejected'],
    requester: input.requester,
    excluded: [input.beneficiary],
    ...escalation,
  });
  if (ownerApproval.outcome !== 'approved') return reject(ownerApproval);
  const approvedBy = [...ownerApproval.decidedBy];

  if (registered.privileged) {
    await setStatus('pending_security', approvedBy[0] as string, { approvedBy });
    const securityApproval = await tasks.run({
      kind: 'access.security-approval',
      title: `Approve privileged access (four-eyes): ${what}`,
      details: { ...details, ownerApprovedBy: approvedBy },
      subject,
      allowedRoles: ['security_manager'],
      outcomes: ['approved', 'rejected'],
      requester: input.requester,
      // Four-eyes: the owner's approver may not give the second approval too.
      excluded: [input.beneficiary, ...approvedBy],
      ...escalation,
    });
    if (securityApproval.outcome !== 'approved') return reject(securityApproval);
    approvedBy.push(...securityApproval.decidedBy);
  }
  // A request that would create a separation-of-duties conflict needs the Security Manager's
  // exception, with its reason and expiry; the marker keeps requests started before this unchanged.
  const exception = input.sodException && patched(sodExceptionPatch) ? input.sodException : undefined;
  if (exception) {
    const names = exception.rules.map((rule) => rule.name).join(', ');
    const exceptionApproval = await tasks.run({
      kind: 'access.sod-exception',
      title: `Grant a separation-of-duties exception (${names}) until ${exception.expiresAt}: ${what}`,
      details: { ...details, conflicts: exception.rules, reason: exception.reason, expiresAt: exception.expiresAt },
      subject,
      allowedRoles: ['security_manager'],
      outcomes: ['approved', 'rejected'],
      requester: input.requester,
      excluded: [input.beneficiary, ...approvedBy],
      ...escalation,
    });
    if (exceptionApproval.outcome !== 'approved') return reject(exceptionApproval);
    approvedBy.push(...exceptionApproval.decidedBy);
    await access.recordSodException({
      id: uuid4(),
      requestId: input.requestId,
      ruleIds: exception.rules.map((rule) => rule.id),
      principalId: input.beneficiary,
      reason: exception.reason,
      expiresAt: exception.expiresAt,
      grantedBy: exceptionApproval.decidedBy[0] as string,
    });
  }
  await setStatus('provisioning', approvedBy.at(-1) as string, { approvedBy, stamp: 'decided_at' });

  const grant = await provision(
    tasks,
    {
      actionId: `${input.requestId}:grant`,
      ciId: input.ciId,
      accountId: input.accountId,
      operation: 'grant',
      entitlements: names,
      subject,
      approvedBy,
    },
    `Grant ${what}`,
  );
  if (grant.status === 'failed') {
    await setStatus('provisioning_failed', systemActor.principalId, { details: { detail: grant.detail } });
    return { status: 'provisioning_failed' };
  }
  const accessExpiresAt = input.until ?? (input.for ? new Date(Date.now() + durationMs(input.for)).toISOString() : null);
  // Access held under an exception ends with the exception, if that comes first.
  const exceptionEndsFirst =
    exception !== undefined && (accessExpiresAt === null || Date.parse(exception.expiresAt) < Date.parse(accessExpiresAt));
  const expiresAt = exceptionEndsFirst ? (exception?.expiresAt as string) : accessExpiresAt;
  await setStatus('active', systemActor.principalId, { stamp: 'provisioned_at', expiresAt, details: { provisioning: grant.status } });
  if (!expiresAt) return { status: 'active' };

  // A durable timer: the revocation happens even if every worker restarts in between.
  await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()));
  const revocation = await provision(
    tasks,
    {
      actionId: `${input.requestId}:revoke`,
      ciId: input.ciId,
      accountId: input.accountId,
      operation: 'revoke',
      entitlements: names,
      subject,
      approvedBy,
    },
    `Revoke expired access: ${what}`,
  );
  if (exception) await access.lapseSodExceptions({ requestId: input.requestId });
  await setStatus('revoked', systemActor.principalId, {
    stamp: 'revoked_at',
    details: { reason: exceptionEndsFirst ? 'sod_exception_expired' : 'expired', provisioning: revocation.status },
  });
  return { status: 'revoked' };

  async function reject(task: TaskResult) {
    await setStatus('rejected', task.decidedBy[0] ?? systemActor.principalId, { stamp: 'decided_at', details: { taskId: task.taskId } });
    return { status: 'rejected' as const };
  }
}
