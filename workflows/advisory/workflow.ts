import { systemActor } from '../../domain/roles';
import {
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  uuid4,
} from '@temporalio/workflow';
import type { AdvisoryActivities } from '../../activities/advisories';
import {
  advisoryRefusalTypes,
  type AdvisoryMatch,
  type AdvisoryResponseInput,
  type AdvisoryResponseResult,
  type AdvisoryState,
  type CloseAdvisoryRequest,
  type RemediationAssignment,
  type RemediationStatus,
} from '../../domain/advisory';
import { durationMs, durationPattern } from '../../domain/duration';
import type { DecisionRequest } from '../../domain/human-task';
import type { Role } from '../../domain/roles';
import { makeSecurityAlertWorkflowId, securityAlertWorkflowType, type SecurityAlertInput } from '../../domain/security-alert';
import { HumanTasks, type TaskResult } from '../human-task';
import { advisoryStateQuery, closeAdvisoryUpdate, rematchSignal } from './definitions';
import { endingVisibly } from '../permanent-failure';

// Advisory records are small PostgreSQL writes: retry until the database is back, never drop one.
// No attempt limit on purpose: what PostgreSQL refuses for good fails at once, non-retryable
// (activities/permanent-failures.ts), so only unavailability (and a bug, until a fix is deployed) retries.
const advisories = proxyActivities<AdvisoryActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/** Who a proposed alert goes to unless the Security Manager names other roles in data.audience. */
const defaultAlertAudience: Role[] = ['security_analyst'];

/** How long an approved exception lasts when neither the owner nor the Security Manager says. */
const defaultExceptionExpiry = '90d';

const text = (data: Record<string, unknown> | null | undefined, key: string) =>
  typeof data?.[key] === 'string' && (data[key] as string).trim() ? (data[key] as string) : undefined;

/** The owner's report must carry what the CMDB and the auditors need. */
function remediationGuard(decision: DecisionRequest): string | undefined {
  if (decision.outcome === 'patched' && !text(decision.data, 'version')) return 'patched needs data.version: the version now installed';
  if (decision.outcome === 'mitigated' && !text(decision.data, 'measure'))
    return 'mitigated needs data.measure: what was done instead of patching';
  if (decision.outcome === 'exception_requested') {
    if (!decision.comment?.trim()) return 'an exception request needs a comment saying why';
    const expiresIn = text(decision.data, 'expiresIn');
    if (expiresIn && !durationPattern.test(expiresIn)) return 'data.expiresIn must be a duration such as 30d';
  }
  return undefined;
}

/**
 * ITIL Security Management's response to a security advisory: find the CIs it affects, have each
 * owner patch, mitigate or ask for an exception by the SLA's patch deadline (escalating when missed),
 * and keep matching as the advisory is revised and CIs gain components, until it is closed.
 */
export async function advisoryResponseWorkflow(input: AdvisoryResponseInput): Promise<AdvisoryResponseResult> {
  // A permanent failure (PostgreSQL refusing the data for good) ends it visibly, not wedged.
  return endingVisibly(
    {
      record: { process: 'advisory', advisoryId: input.advisoryId },
      label: `Advisory ${input.advisoryId}`,
      subject: { type: 'advisory', id: input.advisoryId },
    },
    () => runAdvisoryResponse(input),
  );
}

async function runAdvisoryResponse(input: AdvisoryResponseInput): Promise<AdvisoryResponseResult> {
  const tasks = new HumanTasks();
  const subject = { type: 'advisory', id: input.advisoryId };
  const state: AdvisoryState = {
    advisoryId: input.advisoryId,
    status: 'open',
    activeRemediations: [],
    rematches: 0,
    alertProposal: 'none',
  };
  const tracked = new Set<string>();
  let rematchReasons: string[] = [];
  let closedBy: CloseAdvisoryRequest | undefined;

  setHandler(rematchSignal, ({ reason }) => void rematchReasons.push(reason));
  setHandler(advisoryStateQuery, () => ({ ...state }));
  setHandler(
    closeAdvisoryUpdate,
    (request) => {
      closedBy = request;
      state.status = 'closing';
      return { status: 'closed' as const };
    },
    {
      validator: (_request: CloseAdvisoryRequest) => {
        if (state.status !== 'open')
          throw ApplicationFailure.create({
            type: advisoryRefusalTypes.closed,
            message: 'the advisory is already closed',
            nonRetryable: true,
          });
        if (state.alertProposal === 'pending') {
          throw ApplicationFailure.create({
            type: advisoryRefusalTypes.alertProposalOpen,
            message: 'the proposed security alert still awaits the Security Manager',
            nonRetryable: true,
          });
        }
        if (state.activeRemediations.length > 0) {
          throw ApplicationFailure.create({
            type: advisoryRefusalTypes.remediationsOpen,
            message: `${state.activeRemediations.length} remediation(s) still running`,
            nonRetryable: true,
          });
        }
      },
    },
  );

  async function match() {
    const found = await advisories.matchAdvisory({ advisoryId: input.advisoryId });
    if (found.warrantsAlert && state.alertProposal === 'none') {
      state.alertProposal = 'pending';
      void proposeAlert(found);
    }
    for (const assignment of found.remediations) {
      if (tracked.has(assignment.ciId) || assignment.status !== 'open') continue;
      tracked.add(assignment.ciId);
      state.activeRemediations.push(assignment.ciId);
      void remediate(assignment, found.title, found.preventiveMeasures).finally(() => {
        state.activeRemediations = state.activeRemediations.filter((id) => id !== assignment.ciId);
      });
    }
  }

  /** A critical or exploited advisory: the Security Manager decides whether an alert goes out. */
  async function proposeAlert(found: AdvisoryMatch) {
    const affectedCis = found.remediations.map((r) => r.ciId);
    const actions = [found.preventiveMeasures, 'Patch or mitigate the affected CIs by their deadline'].filter((a): a is string => !!a);
    const proposal = await tasks.run({
      kind: 'advisory.alert-proposal',
      title: `Send a security alert for "${found.title}"?`,
      details: {
        advisoryId: input.advisoryId,
        cvssScore: found.cvssScore,
        exploited: found.exploited,
        affectedCis,
        audience: defaultAlertAudience,
        actions,
        expects: { audience: 'roles[] (optional)' },
      },
      subject,
      allowedRoles: ['security_manager'],
      outcomes: ['send', 'dismiss'],
      forbidSelfDecision: false,
    });
    if (proposal.outcome !== 'send') {
      state.alertProposal = 'dismissed';
      return;
    }
    const audience = Array.isArray(proposal.data?.audience)
      ? proposal.data.audience.filter((role): role is string => typeof role === 'string')
      : defaultAlertAudience;
    const alertId = uuid4();
    const alert: SecurityAlertInput = {
      alertId,
      title: found.title,
      threat: `${found.exploited ? 'Known to be exploited. ' : ''}${found.cvssScore !== null ? `CVSS ${found.cvssScore}. ` : ''}Advisory ${input.advisoryId} affects ${affectedCis.length} CI(s).`,
      actions,
      affectedServices: [],
      affectedCis,
      audience,
      raisedBy: proposal.decidedBy[0] ?? systemActor.principalId,
      links: [{ type: 'advisory', id: input.advisoryId }],
    };
    // uuid4() is deterministic here, so a replayed task never raises a second alert.
    await startChild(securityAlertWorkflowType, {
      workflowId: makeSecurityAlertWorkflowId(alertId),
      args: [alert],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    await advisories.recordAdvisoryAlert({ advisoryId: input.advisoryId, alertId, actor: alert.raisedBy });
    state.alertProposal = 'sent';
  }

  async function record(
    assignment: RemediationAssignment,
    result: TaskResult,
    status: RemediationStatus,
    extra: { resolution?: Record<string, unknown>; exceptionExpiresAt?: string | null } = {},
  ) {
    return advisories.recordRemediation({
      advisoryId: input.advisoryId,
      ciId: assignment.ciId,
      status,
      actor: result.decidedBy[0] ?? systemActor.principalId,
      taskId: result.taskId,
      escalations: result.escalations,
      ...extra,
    });
  }

  async function remediate(assignment: RemediationAssignment, title: string, preventiveMeasures: string | null) {
    let note: string | null = null;
    for (;;) {
      const report = await tasks.run({
        kind: 'advisory.remediation',
        title: `Remediate "${title}" on ${assignment.ciName} (${assignment.product} ${assignment.installedVersion})`,
        details: {
          advisoryId: input.advisoryId,
          ciId: assignment.ciId,
          product: assignment.product,
          installedVersion: assignment.installedVersion,
          fixedVersions: assignment.fixed,
          preventiveMeasures,
          deadline: assignment.deadline,
          note,
          expects: {
            patched: 'data.version',
            mitigated: 'data.measure',
            exception_requested: 'comment (why) and data.expiresIn (e.g. 30d)',
          },
        },
        subject,
        allowedRoles: [],
        assignees: [assignment.owner],
        outcomes: ['patched', 'mitigated', 'exception_requested'],
        forbidSelfDecision: false,
        deadline: assignment.deadline,
        // A missed patch deadline is the Security Manager's to chase, for as long as it stays missed.
        escalations: [{ addRoles: ['security_manager'], notifyRoles: ['security_manager'], extendBy: assignment.deadline }],
        repeatLastEscalation: true,
        guard: remediationGuard,
      });
      if (report.outcome === 'patched') {
        const { stillAffected } = await record(assignment, report, 'patched', { resolution: { version: text(report.data, 'version') } });
        if (!stillAffected) return;
        note = `version ${text(report.data, 'version')} is still in an affected range; install a fixed version (${assignment.fixed.join(', ') || 'see the advisory'})`;
        continue;
      }
      if (report.outcome === 'mitigated') {
        await record(assignment, report, 'mitigated', {
          resolution: { measure: text(report.data, 'measure'), comment: report.decisions.at(-1)?.comment ?? null },
        });
        return;
      }
      await record(assignment, report, 'exception_requested', { resolution: { reason: report.decisions.at(-1)?.comment ?? null } });
      const requested = text(report.data, 'expiresIn');
      const approval = await tasks.run({
        kind: 'advisory.exception',
        title: `Approve an exception for "${title}" on ${assignment.ciName}`,
        details: {
          advisoryId: input.advisoryId,
          ciId: assignment.ciId,
          requestedBy: report.decidedBy[0] ?? null,
          reason: report.decisions.at(-1)?.comment ?? null,
          expiresIn: requested ?? defaultExceptionExpiry,
        },
        subject,
        allowedRoles: ['security_manager'],
        outcomes: ['approved', 'rejected'],
        requester: report.decidedBy[0],
        guard: (decision) => {
          const expiresIn = text(decision.data, 'expiresIn');
          return expiresIn && !durationPattern.test(expiresIn) ? 'data.expiresIn must be a duration such as 30d' : undefined;
        },
      });
      if (approval.outcome !== 'approved') {
        await record(assignment, approval, 'open', {
          resolution: { exceptionRejected: true, comment: approval.decisions.at(-1)?.comment ?? null },
        });
        note = 'the exception was rejected: patch or mitigate';
        continue;
      }
      const expiry = text(approval.data, 'expiresIn') ?? requested ?? defaultExceptionExpiry;
      await record(assignment, approval, 'exception', {
        resolution: { expiresIn: expiry },
        exceptionExpiresAt: new Date(Date.now() + durationMs(expiry)).toISOString(),
      });
      // An exception is temporary: when it lapses the CI is back on the owner's list.
      await sleep(expiry);
      note = `the exception granted for ${expiry} has expired`;
    }
  }

  await match();
  while (state.status === 'open') {
    await condition(() => rematchReasons.length > 0 || state.status !== 'open');
    if (rematchReasons.length === 0) break;
    rematchReasons = [];
    state.rematches += 1;
    await match();
  }
  await condition(allHandlersFinished);
  await advisories.closeAdvisory({
    advisoryId: input.advisoryId,
    actor: closedBy?.actor ?? systemActor.principalId,
    reason: closedBy?.reason ?? 'closed',
  });
  state.status = 'closed';
  return { status: 'closed' };
}
