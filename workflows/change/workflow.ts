import { systemActor } from '../../domain/roles';
import {
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChangeActivities, GateOutcome } from '../../activities/changes';
import type { NotificationActivities } from '../../activities/notifications';
import {
  implementationReportGraceMs,
  missingEvidence,
  newEvidence,
  reviewWindow,
  verifiedStatus,
  type BaselineVerification,
  type ChangeEvidence,
  type ChangeStatus,
} from '../../domain/change-risk';
import { durationMs } from '../../domain/duration';
import type { DecidingActor } from '../../domain/human-task';
import { HumanTasks, type TaskResult } from '../human-task';
import { incidentPlaybookWorkflowType, makeIncidentWorkflowId, type IncidentPlaybookInput } from '../incident/definitions';
import {
  makeSecurityTestWorkflowId,
  securityTestWorkflowType,
  type SecurityTestInput,
  type SecurityTestOutcome,
} from '../../domain/security-test';
import {
  addEvidence,
  amendChange,
  changeRefusalTypes,
  changeReviewOutcomes,
  changeReviewTaskKind,
  changeStateQuery,
  reportImplemented,
  type AmendmentRequest,
  type ChangeGateInput,
  type ChangeGateResult,
  type ChangeGateState,
  type EvidenceRequest,
  type ImplementationReport,
} from './definitions';

// Recording the gate's state is a small PostgreSQL write; retry until the database is back rather than lose it.
const records = proxyActivities<ChangeActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});
// Verification reads the CMDB and the control register; a database that stays down this long fails the
// step, and the failure is the workflow's to see rather than a silent endless retry.
const verification = proxyActivities<ChangeActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '2s', maximumInterval: '1m', maximumAttempts: 10 },
});
// An ITSM tool down for maintenance should still get the decision: back off up to ten minutes apart
// for about two hours, then give the delivery up (it stays recorded as failed).
const callbacks = proxyActivities<ChangeActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10m', maximumAttempts: 16 },
});
// Same reasoning as the task records: a notification is a small insert with a dedup key.
const { notify } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

const reviewerRoles = ['security_reviewer'];
/** Told when a review is halfway to its deadline and still undecided. */
const reminderRoles = ['security_manager', 'change_manager'];
/** Besides the requester, who may attach a penetration test or configuration review they performed. */
const evidenceRoles = ['security_reviewer', 'security_manager', 'admin'];
const system = systemActor.principalId;

function refuse(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

const ms = (value: number) => `${Math.max(1, Math.round(value))}ms`;

/**
 * The change security gate (ITIL service transition): every change is assessed; one that touches
 * access controls, network configuration or data handling, or implements a problem's workaround,
 * is reviewed by security reviewers other than its requester (two of them for a high risk, with a
 * penetration test or configuration review on file) before its planned start; after it is
 * implemented, the baseline of the affected CIs is verified, and a failure opens an incident.
 */
export async function changeSecurityGateWorkflow(input: ChangeGateInput): Promise<ChangeGateResult> {
  const tasks = new HumanTasks();
  const { changeId } = input;
  const subject = { type: 'change', id: changeId };
  let change = input.change;
  let assessment = input.assessment;
  let evidence: ChangeEvidence[] = newEvidence([], input.evidence);
  let revision = 1;
  // Moved by helpers and handlers; the `as` keeps TypeScript from narrowing it to its first value.
  let status = (assessment.reviewRequired ? 'in_review' : 'submitted') as ChangeStatus;
  let waitingFor: ChangeGateState['waitingFor'] = null;
  let reviewExpiresAt: string | null = null;
  // Set by Update handlers; the `as` keeps TypeScript from narrowing them to undefined in the main flow.
  let amendment = undefined as AmendmentRequest | undefined;
  let implementation = undefined as ImplementationReport | undefined;
  let baseline: BaselineVerification | null = null;
  let incidentId: string | null = null;
  const deliveries: Promise<void>[] = [];
  let callbackSequence = 0;

  const requireRequester = (actor: DecidingActor) => {
    if (actor.principalId !== input.requester) refuse(changeRefusalTypes.notRequester, 'only the requester of the change may do this');
  };
  const requireStatus = (allowed: ChangeStatus[], what: string) => {
    if (!allowed.includes(status))
      refuse(changeRefusalTypes.wrongStatus, `${what} only while the change is ${allowed.join(' or ')}; it is ${status}`);
  };
  const updateResult = () => ({ status, revision, risk: assessment.risk });

  setHandler(changeStateQuery, () => ({
    changeId,
    status,
    revision,
    risk: assessment.risk,
    waitingFor,
    openTaskIds: tasks.openTaskIds(),
    reviewExpiresAt,
    evidence,
    verification: baseline,
    incidentId,
  }));

  setHandler(
    amendChange,
    async (request) => {
      amendment = request;
      await condition(() => revision > request.revision);
      return updateResult();
    },
    {
      validator: (request) => {
        requireRequester(request.actor);
        requireStatus(['changes_requested'], 'a change can be amended');
        if (amendment) refuse(changeRefusalTypes.wrongStatus, 'an amendment is already being applied');
        if (request.revision !== revision)
          refuse(changeRefusalTypes.staleRevision, `the change is at revision ${revision}, not ${request.revision}`);
      },
    },
  );

  setHandler(
    addEvidence,
    async ({ actor, evidence: offered }: EvidenceRequest): Promise<ChangeEvidence[]> => {
      const added = newEvidence(evidence, offered);
      if (added.length === 0) return evidence;
      evidence = [...evidence, ...added];
      await records.recordEvidence({ changeId, actor: actor.principalId, evidence, added });
      return evidence;
    },
    {
      validator: ({ actor }: EvidenceRequest) => {
        requireStatus(['in_review', 'changes_requested'], 'evidence can be added');
        if (actor.principalId !== input.requester && !actor.roles.some((role) => evidenceRoles.includes(role))) {
          refuse(changeRefusalTypes.notRequester, `evidence is added by the requester or one of: ${evidenceRoles.join(', ')}`);
        }
      },
    },
  );

  setHandler(
    reportImplemented,
    async (report) => {
      implementation = report;
      await condition(() => status !== 'approved');
      return updateResult();
    },
    {
      validator: (report) => {
        requireRequester(report.actor);
        requireStatus(['approved'], 'a change can be reported implemented');
        if (implementation) refuse(changeRefusalTypes.wrongStatus, 'the implementation is already reported');
      },
    },
  );

  /** Tells the ITSM tool, without holding the gate up while it is unreachable. */
  const tellItsm = (event: string, details: Record<string, unknown>) => {
    if (!input.callbackUrl) return;
    callbackSequence += 1;
    const eventKey = `${callbackSequence}-${event}`;
    const payload = {
      event: `change.${event}`,
      sequence: callbackSequence,
      changeId,
      workflowId: workflowInfo().workflowId,
      status,
      revision,
      risk: assessment.risk,
      externalRef: input.externalRef,
      occurredAt: new Date().toISOString(),
      ...details,
    };
    deliveries.push(
      callbacks.deliverChangeCallback({ changeId, eventKey, url: input.callbackUrl, payload }).then(
        () => undefined,
        (error: unknown) =>
          records.markCallbackUndelivered({ changeId, eventKey, reason: error instanceof Error ? error.message : String(error) }),
      ),
    );
  };

  const decide = async (decisionKey: string, outcome: GateOutcome, decidedBy: string[], reason: string, taskId: string | null) => {
    await records.recordChangeDecision({ changeId, decisionKey, revision, outcome, decidedBy, reason, taskId });
    status = outcome;
    tellItsm('decision', { outcome, decidedBy, reason });
  };

  const review = async (): Promise<TaskResult> => {
    const window = reviewWindow({ now: Date.now(), plannedStart: Date.parse(change.plannedStart), limitMs: durationMs(input.reviewLimit) });
    reviewExpiresAt = new Date(Date.now() + window.expiresInMs).toISOString();
    waitingFor = 'review';
    const result = await tasks.run({
      kind: changeReviewTaskKind,
      title: `Security review (${assessment.risk} risk, revision ${revision}): ${change.title}`,
      details: {
        changeId,
        revision,
        risk: assessment.risk,
        reasons: assessment.reasons,
        fourEyes: assessment.fourEyes,
        evidenceRequired: assessment.evidenceRequired,
        plannedStart: change.plannedStart,
        expiresAt: reviewExpiresAt,
        endsAt: window.endsAt,
      },
      subject,
      allowedRoles: reviewerRoles,
      outcomes: [...changeReviewOutcomes],
      requester: input.requester,
      excluded: input.alsoExcluded,
      ...(assessment.fourEyes ? { fourEyes: { approveOutcome: 'approved' } } : {}),
      deadline: ms(window.remindInMs),
      escalations: [{ notifyRoles: reminderRoles, extendBy: ms(window.expiresInMs - window.remindInMs) }],
      expireWith: 'rejected',
      // Read at each decision: evidence attached during the review counts.
      guard: (decision) => (decision.outcome === 'approved' ? missingEvidence(assessment, evidence) : undefined),
    });
    reviewExpiresAt = null;
    waitingFor = null;
    const reason = result.expired
      ? `not decided before the ${window.endsAt === 'planned_start' ? 'planned start' : 'review limit'}: expired as rejected`
      : (result.decisions.at(-1)?.comment ?? `${result.outcome} by ${result.decidedBy.join(' and ')}`);
    await decide(
      `review:${result.taskId}`,
      result.outcome as GateOutcome,
      result.expired ? [system] : result.decidedBy,
      reason,
      result.taskId,
    );
    return result;
  };

  const applyAmendment = async (request: AmendmentRequest) => {
    change = { ...change, ...request.changes };
    assessment = request.assessment;
    evidence = [...evidence, ...newEvidence(evidence, request.evidence ?? [])];
    await records.recordAmendment({
      changeId,
      actor: request.actor.principalId,
      revision: revision + 1,
      changes: request.changes,
      evidence,
      assessment,
    });
    revision += 1;
    status = 'in_review';
    amendment = undefined;
  };

  await records.recordChangeRequest({ workflowId: workflowInfo().workflowId, gate: input, status });

  // Assess and review until the gate decides; a reviewer's request for changes loops back here.
  for (;;) {
    // Only a change that was never sent back passes unreviewed: clearing the impact flags in an
    // amendment must not get round the reviewer who asked for changes.
    if (!assessment.reviewRequired && revision === 1) {
      await decide(`auto:${revision}`, 'approved', [system], assessment.reasons.join('; '), null);
      break;
    }
    const result = await review();
    if (result.outcome !== 'changes_requested') break;
    waitingFor = 'amendment';
    // An amendment accepted as the timer fires still counts: its handler waits for it to apply.
    await condition(() => amendment !== undefined, ms(Date.parse(change.plannedStart) - Date.now()));
    waitingFor = null;
    if (!amendment) {
      await decide(`unamended:${revision}`, 'rejected', [system], 'changes were requested and not made before the planned start', null);
      break;
    }
    const fields = Object.keys(amendment.changes);
    await applyAmendment(amendment);
    tellItsm('amended', { fields });
  }

  if (status === 'approved') {
    waitingFor = 'implementation_report';
    await condition(() => implementation !== undefined, ms(Date.parse(change.plannedEnd) + implementationReportGraceMs - Date.now()));
    waitingFor = null;
    if (!implementation) {
      await decide(
        'implementation-window',
        'not_implemented',
        [system],
        'no implementation was reported within 30 days of the planned end',
        null,
      );
    } else {
      await verify(implementation);
    }
  }

  await Promise.all(deliveries);
  await condition(allHandlersFinished);
  return { changeId, status, revision, incidentId };

  async function verify(report: ImplementationReport) {
    await records.recordImplementation({
      changeId,
      actor: report.actor.principalId,
      implementedAt: report.implementedAt,
      notes: report.notes,
    });
    status = 'verifying';
    waitingFor = 'verification';
    // Changes implemented before the gate ran the tests itself only read the recorded results.
    const testsRun = patched('change-gate-runs-security-tests');
    const incidentsByControl = testsRun ? await runSecurityTests() : new Map<string, string>();
    baseline = await verification.verifyBaseline({ changeId, ciIds: change.affectedCis });
    await records.recordVerification({ changeId, verification: baseline });
    status = verifiedStatus(baseline);
    waitingFor = null;
    if (testsRun) {
      // A failed test opened its own incident (linked back to this change): link it here rather than
      // open a second one; the gate opens its own only for failing measures no failed test reported.
      for (const opened of new Set(incidentsByControl.values())) await linkIncident(opened);
      const uncovered = baseline.checks.filter(
        (check) => check.status === 'fails' && !(check.controlId && incidentsByControl.has(check.controlId)),
      );
      if (uncovered.length > 0) await openIncident(baseline, uncovered);
    } else if (status === 'baseline_failed') {
      await openIncident(
        baseline,
        baseline.checks.filter((check) => check.status === 'fails'),
      );
    }
    tellItsm('verification', { outcome: baseline.outcome, summary: baseline.summary, incidentId });
  }

  /**
   * Runs the tests of the controls protecting the affected CIs, in parallel, and waits for their
   * reports (a manual test waits for its tester, up to its own deadline). Returns the incidents the
   * failed tests opened, by control.
   */
  async function runSecurityTests(): Promise<Map<string, string>> {
    const controlIds = await verification.controlsToTest({ ciIds: change.affectedCis });
    // Workflow time is replayed, so a retried workflow task derives the same run ids and starts each test once.
    const startedAt = new Date();
    const outcomes = await Promise.allSettled(
      controlIds.map((controlId) => {
        const test: SecurityTestInput = { controlId, requestedBy: workflowInfo().workflowId, links: [subject] };
        return executeChild<(input: SecurityTestInput) => Promise<SecurityTestOutcome>>(securityTestWorkflowType, {
          workflowId: makeSecurityTestWorkflowId(controlId, startedAt),
          args: [test],
          // The run and its report belong to the control's testing schedule: a gate ended early must not cut them off.
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        }).then((outcome) => [controlId, outcome] as const);
      }),
    );
    // A test that could not run leaves the control's latest recorded result for verifyBaseline to judge.
    const incidents = new Map<string, string>();
    for (const settled of outcomes) {
      if (settled.status === 'fulfilled' && settled.value[1].incidentId) incidents.set(settled.value[0], settled.value[1].incidentId);
    }
    return incidents;
  }

  async function linkIncident(id: string) {
    incidentId ??= id;
    await records.linkChangeIncident({ changeId, incidentId: id });
  }

  async function openIncident(failed: BaselineVerification, failing: BaselineVerification['checks']) {
    // uuid4() is deterministic in a workflow: a retried workflow task starts the same child, once.
    const id = uuid4();
    const incident: IncidentPlaybookInput = {
      incidentId: id,
      title: `Security baseline broken after change: ${change.title}`,
      description: `${failed.summary}\n${failing.map((check) => `- ${check.measureId} ${check.title} on CI ${check.ciId}: ${check.detail}`).join('\n')}`,
      category: 'other',
      threatens: [...new Set(failing.map((check) => check.aspect))],
      affectedCis: [...new Set(failing.map((check) => check.ciId))],
      source: 'change-gate',
      reportedBy: system,
      reportedAt: new Date().toISOString(),
      detectedAt: failed.verifiedAt,
      links: [{ type: 'change', id: changeId }],
      fingerprint: `change/${changeId}/baseline`,
    };
    await startChild(incidentPlaybookWorkflowType, {
      workflowId: makeIncidentWorkflowId(id),
      args: [incident],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
    await linkIncident(id);
  }
}
