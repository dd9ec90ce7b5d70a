import { systemActor } from '../../domain/roles';
import {
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { AdvisoryActivities } from '../../activities/advisories';
import {
  advisoryRefusalTypes,
  type AlertProposalFacts,
  type AdvisoryResponseInput,
  type AdvisoryResponseResult,
  type AdvisoryState,
  type CloseAdvisoryRequest,
  type RemediationEvidence,
  type RemediationProgress,
  type RemediationStatus,
  type WithdrawAdvisoryRequest,
  patchConfirmedPatch,
  verifiedFixPatch,
} from '../../domain/advisory';
import { durationMs, durationPattern } from '../../domain/duration';
import type { DecisionRequest } from '../../domain/human-task';
import type { Role } from '../../domain/roles';
import { makeSecurityAlertWorkflowId, securityAlertWorkflowType, type SecurityAlertInput } from '../../domain/security-alert';
import { boundedHistoriesPatch, HumanTasks, type TaskResult } from '../human-task';
import { advisoryStateQuery, closeAdvisoryUpdate, rematchSignal, remediationEvidenceSignal, withdrawSignal } from './definitions';
import { endingVisibly } from '../permanent-failure';
import { publishSearchFields } from '../search-attributes';

// Advisory records are small PostgreSQL writes: retry until the database is back, never drop one.
// No attempt limit on purpose: what PostgreSQL refuses for good fails at once, non-retryable
// (activities/permanent-failures.ts), so only unavailability (and a bug, until a fix is deployed) retries.
const advisories = proxyActivities<AdvisoryActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/**
 * Re-matches one run keeps before the advisory continues as new: each costs about ten events (the
 * signal, the match, their workflow tasks), and an advisory stays open for months of CMDB changes.
 */
export const rematchesPerRun = 20;

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
  const carried = input.continuation;
  // Remediation deadlines escalate for as long as they stay missed: bound the run (see human-task.ts).
  const tasks = new HumanTasks({ carried: carried?.tasks, boundHistory: true });
  const subject = { type: 'advisory', id: input.advisoryId };
  const state: AdvisoryState = {
    advisoryId: input.advisoryId,
    status: 'open',
    activeRemediations: [],
    rematches: carried?.rematches ?? 0,
    alertProposal: carried?.alertProposal ?? 'none',
  };
  publishSearchFields({ process: 'advisory', subjectId: input.advisoryId, status: state.status });
  const tracked = new Set<string>(carried?.tracked);
  let rematchReasons: string[] = [...(carried?.rematchReasons ?? [])];
  let closedBy: CloseAdvisoryRequest | undefined;
  /** Set when the source withdraws the advisory: everything running stops, nothing new starts. */
  let withdrawal: WithdrawAdvisoryRequest | undefined;
  /** Every running remediation, where it stands: what continue-as-new carries. */
  const remediations = new Map<string, RemediationProgress>();
  /** Running remediations a rescan or a new SBOM proved fixed, by CI: each closes as verified at its next step. */
  const verifiedFixes = new Map<string, RemediationEvidence>();
  let pendingAlert: AlertProposalFacts | null = carried?.pendingAlert ?? null;
  let matching = false;
  let rematchesThisRun = 0;
  let full = false;

  setHandler(rematchSignal, ({ reason }) => void rematchReasons.push(reason));
  setHandler(withdrawSignal, (request) => {
    // A withdrawal after the close was accepted changes nothing: the advisory is ending anyway.
    if (state.status === 'open' && !withdrawal) withdrawal = request;
  });
  setHandler(remediationEvidenceSignal, (evidence) => weighEvidence(evidence));
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
    matching = true;
    const found = await advisories.matchAdvisory({ advisoryId: input.advisoryId });
    matching = false;
    if (found.warrantsAlert && state.alertProposal === 'none') {
      state.alertProposal = 'pending';
      pendingAlert = {
        title: found.title,
        cvssScore: found.cvssScore,
        exploited: found.exploited,
        preventiveMeasures: found.preventiveMeasures,
        affectedCis: found.remediations.map((r) => r.ciId),
      };
      void proposeAlert(pendingAlert);
    }
    for (const assignment of found.remediations) {
      if (tracked.has(assignment.ciId) || assignment.status !== 'open') continue;
      tracked.add(assignment.ciId);
      track({ assignment, title: found.title, preventiveMeasures: found.preventiveMeasures, note: null, phase: 'report' });
    }
  }

  function track(progress: RemediationProgress) {
    const { ciId } = progress.assignment;
    remediations.set(ciId, progress);
    state.activeRemediations.push(ciId);
    void remediate(progress).finally(() => {
      remediations.delete(ciId);
      verifiedFixes.delete(ciId);
      state.activeRemediations = state.activeRemediations.filter((id) => id !== ciId);
    });
  }

  /**
   * A scanner import or a new SBOM for a CI this advisory has a remediation on. Proof of the fix
   * closes a running remediation as verified: its open task is cancelled and the remediation loop
   * records the proof. A CI shown vulnerable again after it was patched reopens, with a new task for
   * the owner; one shown fixed after its owner reported the patch has the report confirmed on its
   * record. Anything else (a running remediation still affected, silence) changes nothing.
   */
  async function weighEvidence(evidence: RemediationEvidence) {
    if (state.status !== 'open' || withdrawal || !patched(verifiedFixPatch)) return;
    const { ciId } = evidence;
    const verdict = await advisories.weighRemediationEvidence({ advisoryId: input.advisoryId, evidence });
    if (state.status !== 'open' || withdrawal) return;
    if (remediations.has(ciId)) {
      if (verdict !== 'fixed') return;
      verifiedFixes.set(ciId, evidence);
      // Every task recorded first: one still being opened would be cancelled before its row exists.
      await condition(() => tasks.quiescent());
      for (const key of [`remediation:${ciId}`, `exception:${ciId}`]) {
        const taskId = tasks.openTaskId(key);
        if (taskId)
          await tasks.cancel(taskId, `the fix was verified by ${evidence.source === 'scan' ? `a ${evidence.scanner} scan` : 'a new SBOM'}`);
      }
      return;
    }
    if (verdict === 'fixed') {
      if (patched(patchConfirmedPatch)) await advisories.confirmReportedPatch({ advisoryId: input.advisoryId, evidence });
      return;
    }
    if (verdict !== 'affected') return;
    const reopened = await advisories.reopenRemediation({ advisoryId: input.advisoryId, evidence });
    if (!reopened || remediations.has(ciId) || state.status !== 'open' || withdrawal) return;
    tracked.add(ciId);
    const source = evidence.source === 'scan' ? `the ${evidence.scanner} scan` : 'the new SBOM';
    track({ ...reopened, note: `${source} shows the CI vulnerable again: patch it (again)`, phase: 'report' });
  }

  /** A critical or exploited advisory: the Security Manager decides whether an alert goes out. */
  async function proposeAlert(found: AlertProposalFacts) {
    const { affectedCis } = found;
    const actions = [found.preventiveMeasures, 'Patch or mitigate the affected CIs by their deadline'].filter((a): a is string => !!a);
    const proposal = await tasks.run({
      key: 'alert-proposal',
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
      pendingAlert = null;
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
    pendingAlert = null;
  }

  async function record(
    assignment: RemediationProgress['assignment'],
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

  /**
   * One CI until it is patched or mitigated: the owner reports, an exception needs the Security
   * Manager and lapses. `progress` is kept current at every step, so a continued run picks up the same open task, or the rest of the exception, where the previous run left it.
   */
  async function remediate(progress: RemediationProgress) {
    const { assignment, title, preventiveMeasures } = progress;
    /** The task a verified fix cancelled: its escalations stay on the remediation's record. */
    let cancelled: TaskResult | undefined;
    for (;;) {
      // Withdrawn: the withdrawal closes this remediation as not applicable; no task opens again.
      if (withdrawal) return;
      const proof = verifiedFixes.get(assignment.ciId);
      if (proof) {
        await advisories.recordVerifiedFix({
          advisoryId: input.advisoryId,
          ciId: assignment.ciId,
          evidence: proof,
          taskId: cancelled?.taskId ?? null,
          escalations: cancelled?.escalations ?? 0,
        });
        return;
      }
      if (progress.phase === 'report') {
        const report = await tasks.run({
          key: `remediation:${assignment.ciId}`,
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
            note: progress.note,
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
        if (withdrawal) return;
        // Only a verified fix cancels a remediation's task while the advisory stands.
        if (report.outcome === 'cancelled') {
          cancelled = report;
          continue;
        }
        if (report.outcome === 'patched') {
          const { stillAffected } = await record(assignment, report, 'patched', { resolution: { version: text(report.data, 'version') } });
          if (!stillAffected) return;
          progress.note = `version ${text(report.data, 'version')} is still in an affected range; install a fixed version (${assignment.fixed.join(', ') || 'see the advisory'})`;
          continue;
        }
        if (report.outcome === 'mitigated') {
          await record(assignment, report, 'mitigated', {
            resolution: { measure: text(report.data, 'measure'), comment: report.decisions.at(-1)?.comment ?? null },
          });
          return;
        }
        await record(assignment, report, 'exception_requested', { resolution: { reason: report.decisions.at(-1)?.comment ?? null } });
        progress.exceptionRequest = {
          requestedBy: report.decidedBy[0] ?? null,
          reason: report.decisions.at(-1)?.comment ?? null,
          expiresIn: text(report.data, 'expiresIn') ?? null,
        };
        progress.phase = 'exception';
        continue;
      }

      if (progress.phase === 'exception') {
        const request = progress.exceptionRequest ?? { requestedBy: null, reason: null, expiresIn: null };
        const requested = request.expiresIn ?? undefined;
        const approval = await tasks.run({
          key: `exception:${assignment.ciId}`,
          kind: 'advisory.exception',
          title: `Approve an exception for "${title}" on ${assignment.ciName}`,
          details: {
            advisoryId: input.advisoryId,
            ciId: assignment.ciId,
            requestedBy: request.requestedBy,
            reason: request.reason,
            expiresIn: requested ?? defaultExceptionExpiry,
          },
          subject,
          allowedRoles: ['security_manager'],
          outcomes: ['approved', 'rejected'],
          requester: request.requestedBy ?? undefined,
          guard: (decision) => {
            const expiresIn = text(decision.data, 'expiresIn');
            return expiresIn && !durationPattern.test(expiresIn) ? 'data.expiresIn must be a duration such as 30d' : undefined;
          },
        });
        if (withdrawal) return;
        if (approval.outcome === 'cancelled') {
          cancelled = approval;
          continue;
        }
        if (approval.outcome !== 'approved') {
          await record(assignment, approval, 'open', {
            resolution: { exceptionRejected: true, comment: approval.decisions.at(-1)?.comment ?? null },
          });
          progress.note = 'the exception was rejected: patch or mitigate';
          progress.phase = 'report';
          continue;
        }
        const expiry = text(approval.data, 'expiresIn') ?? requested ?? defaultExceptionExpiry;
        const lapsesAt = new Date(Date.now() + durationMs(expiry)).toISOString();
        await record(assignment, approval, 'exception', { resolution: { expiresIn: expiry }, exceptionExpiresAt: lapsesAt });
        progress.exception = { expiry, lapsesAt };
        progress.phase = 'excepted';
        // An exception is temporary: when it lapses the CI is back on the owner's list. The same one
        // timer as a plain sleep; a withdrawal or a verified fix ends the wait early.
        await condition(() => withdrawal !== undefined || verifiedFixes.has(assignment.ciId), expiry);
      } else {
        // A continued run sleeps out what is left of the exception.
        const left = progress.exception ? Date.parse(progress.exception.lapsesAt) - Date.now() : 0;
        await condition(() => withdrawal !== undefined || verifiedFixes.has(assignment.ciId), Math.max(1, left));
      }
      if (withdrawal) return;
      if (verifiedFixes.has(assignment.ciId)) continue;
      progress.note = `the exception granted for ${progress.exception?.expiry ?? defaultExceptionExpiry} has expired`;
      progress.phase = 'report';
      progress.exception = undefined;
    }
  }

  /** Every running part of the advisory is waiting on a person or a timer, nothing mid-write. */
  function resumable(): boolean {
    if (matching || state.status !== 'open' || withdrawal || !tasks.quiescent() || !allHandlersFinished()) return false;
    if (state.alertProposal === 'pending' && !tasks.hasOpen('alert-proposal')) return false;
    return [...remediations.values()].every((progress) =>
      progress.phase === 'report'
        ? tasks.hasOpen(`remediation:${progress.assignment.ciId}`)
        : progress.phase === 'exception'
          ? tasks.hasOpen(`exception:${progress.assignment.ciId}`)
          : progress.exception !== undefined,
    );
  }

  /** The run holds as many re-matches or escalations as one run keeps, and all of it can be carried. */
  const readyToContinue = () => (full || tasks.historyFull()) && resumable();
  const continueNow = () =>
    continueAsNew<typeof advisoryResponseWorkflow>({
      advisoryId: input.advisoryId,
      continuation: {
        rematches: state.rematches,
        alertProposal: state.alertProposal,
        pendingAlert,
        tracked: [...tracked],
        remediations: [...remediations.values()],
        rematchReasons,
        tasks: tasks.carry(),
        runs: (carried?.runs ?? 0) + 1,
      },
    });

  /**
   * The source withdrew the advisory: its open tasks are cancelled, every remediation loop returns,
   * and one activity closes the running remediations as not applicable and the advisory as withdrawn.
   */
  async function withdraw(request: WithdrawAdvisoryRequest): Promise<AdvisoryResponseResult> {
    // Every task recorded and waiting first: a task still being opened would be cancelled before its row exists.
    await condition(() => tasks.quiescent());
    for (const taskId of tasks.openTaskIds()) await tasks.cancel(taskId, 'the advisory was withdrawn by its source');
    await condition(() => state.activeRemediations.length === 0 && allHandlersFinished());
    await advisories.withdrawAdvisory({ advisoryId: input.advisoryId, actor: request.actor, withdrawnAt: request.withdrawnAt });
    state.status = 'withdrawn';
    publishSearchFields({ status: state.status });
    return { status: 'withdrawn' };
  }

  if (carried) {
    // A continued run: everything running goes on where it was; nothing is opened or announced again.
    if (state.alertProposal === 'pending' && pendingAlert) void proposeAlert(pendingAlert);
    for (const progress of carried.remediations) track(progress);
  } else {
    await match();
  }
  while (state.status === 'open') {
    await condition(() => rematchReasons.length > 0 || state.status !== 'open' || withdrawal !== undefined || readyToContinue());
    // Before pending re-matches (they are carried), so a steady stream of them cannot starve it; checked
    // again in the same activation, since a decision may have arrived after the condition held.
    if (readyToContinue()) return await continueNow();
    if (withdrawal) break;
    if (rematchReasons.length === 0) {
      if (state.status !== 'open') break;
      continue;
    }
    rematchReasons = [];
    state.rematches += 1;
    await match();
    rematchesThisRun += 1;
    if (!full && (rematchesThisRun >= rematchesPerRun || workflowInfo().continueAsNewSuggested)) full = patched(boundedHistoriesPatch);
  }
  if (withdrawal) return withdraw(withdrawal);
  await condition(allHandlersFinished);
  await advisories.closeAdvisory({
    advisoryId: input.advisoryId,
    actor: closedBy?.actor ?? systemActor.principalId,
    reason: closedBy?.reason ?? 'closed',
  });
  state.status = 'closed';
  publishSearchFields({ status: state.status });
  return { status: 'closed' };
}
