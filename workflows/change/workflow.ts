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
import type { ChangeActivities } from '../../activities/changes';
import {
  changeRefusalTypes,
  changeReviewOutcomes,
  changeReviewTaskKind,
  type AmendmentRequest,
  type ChangeGateInput,
  type ChangeGateResult,
  type ChangeGateState,
  type ChangeUpdateResult,
  type GateOutcome,
  type ImplementationReport,
} from '../../domain/change';
import {
  implementationReportGraceMs,
  missingEvidence,
  newEvidence,
  reviewWindow,
  verifiedStatus,
  type BaselineVerification,
  type ChangeAssessment,
  type ChangeDetails,
  type ChangeEvidence,
  type ChangeStatus,
} from '../../domain/change-risk';
import { durationMs } from '../../domain/duration';
import type { DecidingActor } from '../../domain/human-task';
import { systemActor, type Role } from '../../domain/roles';
import { HumanTasks, type TaskResult } from '../human-task';
import { publishSearchFields } from '../search-attributes';
import { incidentPlaybookWorkflowType, makeIncidentWorkflowId, type IncidentPlaybookInput } from '../../domain/incident';
import {
  makeSecurityTestWorkflowId,
  securityTestWorkflowType,
  type SecurityTestInput,
  type SecurityTestOutcome,
} from '../../domain/security-test';
import { addEvidenceUpdate, amendChangeUpdate, changeStateQuery, reportImplementedUpdate } from './definitions';
import { endingVisibly } from '../permanent-failure';

// Recording the gate's state is a small PostgreSQL write; retry until the database is back rather than lose it.
// No attempt limit on purpose: what PostgreSQL refuses for good fails at once, non-retryable
// (activities/permanent-failures.ts), so only unavailability (and a bug, until a fix is deployed) retries.
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

const reviewerRoles: Role[] = ['security_reviewer'];
/** Told when a review is halfway to its deadline and still undecided. */
const reminderRoles: Role[] = ['security_manager', 'change_manager'];
/** Besides the requester, who may attach a penetration test or configuration review they performed. */
const evidenceRoles: Role[] = ['security_reviewer', 'security_manager', 'admin'];
const system = systemActor.principalId;

/**
 * The change security gate (ITIL service transition): every change is assessed; one that touches
 * access controls, network configuration or data handling, or implements a problem's workaround,
 * is reviewed by security reviewers other than its requester (two of them for a high risk, with a
 * penetration test or configuration review on file) before its planned start; after it is
 * implemented, the baseline of the affected CIs is verified, and a failure opens an incident.
 */
export async function changeSecurityGateWorkflow(input: ChangeGateInput): Promise<ChangeGateResult> {
  // A permanent failure (PostgreSQL refusing the data for good) ends it visibly, not wedged.
  return endingVisibly(
    {
      record: { process: 'change', changeId: input.changeId },
      label: `Change ${input.changeId}`,
      subject: { type: 'change', id: input.changeId },
    },
    () => runChangeSecurityGate(input),
  );
}

async function runChangeSecurityGate(input: ChangeGateInput): Promise<ChangeGateResult> {
  const gate = new ChangeGate(input);
  registerHandlers(gate);

  // Assess: the API assessed the change against the CMDB; the gate records it, in review or not.
  await records.recordChangeRequest({ workflowId: workflowInfo().workflowId, gate: input, status: gate.status });

  // Review and approve, before the planned start; a reviewer's request for changes loops back.
  await reviewUntilDecided(gate);

  // Wait for the requester to report the approved change implemented, then verify its baseline.
  if (gate.status === 'approved') {
    const report = await awaitImplementationReport(gate);
    if (report) await verify(gate, report);
    else await closeNotImplemented(gate);
  }

  // Close once the ITSM tool has been told everything and every Update has answered.
  await Promise.all(gate.deliveries);
  await condition(allHandlersFinished);
  return { changeId: gate.changeId, status: gate.status, revision: gate.revision, incidentId: gate.incidentId };
}

/** What the gate knows and waits for: the state its Query shows, moved by the steps and the Updates. */
class ChangeGate {
  readonly tasks = new HumanTasks();
  readonly changeId: string;
  readonly subject: { type: string; id: string };
  change: ChangeDetails;
  assessment: ChangeAssessment;
  evidence: ChangeEvidence[];
  revision = 1;
  #status: ChangeStatus;
  waitingFor: ChangeGateState['waitingFor'] = null;
  reviewExpiresAt: string | null = null;
  /** Set by the amendChange Update, cleared once the amendment is applied. */
  amendment: AmendmentRequest | undefined = undefined;
  /** Set by the reportImplemented Update. */
  implementation: ImplementationReport | undefined = undefined;
  verification: BaselineVerification | null = null;
  incidentId: string | null = null;
  /** Callbacks to the ITSM tool under way; the gate does not finish before them. */
  readonly deliveries: Promise<void>[] = [];
  private callbackSequence = 0;

  constructor(readonly input: ChangeGateInput) {
    this.changeId = input.changeId;
    this.subject = { type: 'change', id: input.changeId };
    this.change = input.change;
    this.assessment = input.assessment;
    this.evidence = newEvidence([], input.evidence);
    this.#status = input.assessment.reviewRequired ? 'in_review' : 'submitted';
    // The title is free text: it goes to the memo, which the codec encrypts, never to a Search Attribute.
    publishSearchFields(
      { process: 'change', subjectId: input.changeId, status: this.#status, risk: input.assessment.risk },
      { title: input.change.title },
    );
  }

  get status(): ChangeStatus {
    return this.#status;
  }

  /** Every move of the change is what operators filter the gate's workflows by. */
  set status(status: ChangeStatus) {
    this.#status = status;
    publishSearchFields({ status });
  }

  state(): ChangeGateState {
    return {
      changeId: this.changeId,
      status: this.status,
      revision: this.revision,
      risk: this.assessment.risk,
      waitingFor: this.waitingFor,
      openTaskIds: this.tasks.openTaskIds(),
      reviewExpiresAt: this.reviewExpiresAt,
      evidence: this.evidence,
      verification: this.verification,
      incidentId: this.incidentId,
    };
  }

  updateResult(): ChangeUpdateResult {
    return { status: this.status, revision: this.revision, risk: this.assessment.risk };
  }

  /** Records a decision of the gate, moves the change to its outcome and tells the ITSM tool. */
  async decide(decisionKey: string, outcome: GateOutcome, decidedBy: string[], reason: string, taskId: string | null) {
    await records.recordChangeDecision({
      changeId: this.changeId,
      decisionKey,
      revision: this.revision,
      outcome,
      decidedBy,
      reason,
      taskId,
    });
    this.status = outcome;
    this.tellItsm('decision', { outcome, decidedBy, reason });
  }

  /** Tells the ITSM tool, without holding the gate up while it is unreachable. */
  tellItsm(event: string, details: Record<string, unknown>) {
    const url = this.input.callbackUrl;
    if (!url) return;
    this.callbackSequence += 1;
    const eventKey = `${this.callbackSequence}-${event}`;
    const payload = {
      event: `change.${event}`,
      sequence: this.callbackSequence,
      changeId: this.changeId,
      workflowId: workflowInfo().workflowId,
      status: this.status,
      revision: this.revision,
      risk: this.assessment.risk,
      externalRef: this.input.externalRef,
      occurredAt: new Date().toISOString(),
      ...details,
    };
    this.deliveries.push(
      callbacks.deliverChangeCallback({ changeId: this.changeId, eventKey, url, payload }).then(
        () => undefined,
        (error: unknown) =>
          records.markCallbackUndelivered({
            changeId: this.changeId,
            eventKey,
            reason: error instanceof Error ? error.message : String(error),
          }),
      ),
    );
  }
}

/** The requester amends and reports implementation; evidence comes from them or a reviewer. */
function registerHandlers(gate: ChangeGate) {
  setHandler(changeStateQuery, () => gate.state());

  setHandler(
    amendChangeUpdate,
    async (request) => {
      gate.amendment = request;
      await condition(() => gate.revision > request.revision);
      return gate.updateResult();
    },
    {
      validator: (request) => {
        requireRequester(gate, request.actor);
        requireStatus(gate, ['changes_requested'], 'a change can be amended');
        if (gate.amendment) refuse(changeRefusalTypes.wrongStatus, 'an amendment is already being applied');
        if (request.revision !== gate.revision)
          refuse(changeRefusalTypes.staleRevision, `the change is at revision ${gate.revision}, not ${request.revision}`);
      },
    },
  );

  setHandler(
    addEvidenceUpdate,
    async ({ actor, evidence: offered }) => {
      const added = newEvidence(gate.evidence, offered);
      if (added.length === 0) return gate.evidence;
      gate.evidence = [...gate.evidence, ...added];
      await records.recordEvidence({ changeId: gate.changeId, actor: actor.principalId, evidence: gate.evidence, added });
      return gate.evidence;
    },
    {
      validator: ({ actor }) => {
        requireStatus(gate, ['in_review', 'changes_requested'], 'evidence can be added');
        if (actor.principalId !== gate.input.requester && !evidenceRoles.some((role) => actor.roles.includes(role))) {
          refuse(changeRefusalTypes.notRequester, `evidence is added by the requester or one of: ${evidenceRoles.join(', ')}`);
        }
      },
    },
  );

  setHandler(
    reportImplementedUpdate,
    async (report) => {
      gate.implementation = report;
      await condition(() => gate.status !== 'approved');
      return gate.updateResult();
    },
    {
      validator: (report) => {
        requireRequester(gate, report.actor);
        requireStatus(gate, ['approved'], 'a change can be reported implemented');
        if (gate.implementation) refuse(changeRefusalTypes.wrongStatus, 'the implementation is already reported');
      },
    },
  );
}

/** Assesses and reviews until the gate decides: a change sent back is reviewed again once amended. */
async function reviewUntilDecided(gate: ChangeGate) {
  for (;;) {
    // Only a change that was never sent back passes unreviewed: clearing the impact flags in an
    // amendment must not get round the reviewer who asked for changes.
    if (!gate.assessment.reviewRequired && gate.revision === 1) {
      await gate.decide(`auto:${gate.revision}`, 'approved', [system], gate.assessment.reasons.join('; '), null);
      return;
    }
    const result = await review(gate);
    if (result.outcome !== 'changes_requested') return;
    const amendment = await awaitAmendment(gate);
    if (!amendment) {
      await gate.decide(
        `unamended:${gate.revision}`,
        'rejected',
        [system],
        'changes were requested and not made before the planned start',
        null,
      );
      return;
    }
    await applyAmendment(gate, amendment);
  }
}

/** One security review of the current revision, decided by reviewers or expired at its deadline. */
async function review(gate: ChangeGate): Promise<TaskResult> {
  const { change, assessment, revision } = gate;
  const window = reviewWindow({
    now: Date.now(),
    plannedStart: Date.parse(change.plannedStart),
    limitMs: durationMs(gate.input.reviewLimit),
  });
  gate.reviewExpiresAt = new Date(Date.now() + window.expiresInMs).toISOString();
  publishSearchFields({ slaDueAt: gate.reviewExpiresAt });
  gate.waitingFor = 'review';
  const result = await gate.tasks.run({
    kind: changeReviewTaskKind,
    title: `Security review (${assessment.risk} risk, revision ${revision}): ${change.title}`,
    details: {
      changeId: gate.changeId,
      revision,
      risk: assessment.risk,
      reasons: assessment.reasons,
      fourEyes: assessment.fourEyes,
      evidenceRequired: assessment.evidenceRequired,
      plannedStart: change.plannedStart,
      expiresAt: gate.reviewExpiresAt,
      endsAt: window.endsAt,
    },
    subject: gate.subject,
    allowedRoles: reviewerRoles,
    outcomes: [...changeReviewOutcomes],
    requester: gate.input.requester,
    excluded: gate.input.alsoExcluded,
    ...(assessment.fourEyes ? { fourEyes: { approveOutcome: 'approved' } } : {}),
    deadline: ms(window.remindInMs),
    escalations: [{ notifyRoles: reminderRoles, extendBy: ms(window.expiresInMs - window.remindInMs) }],
    expireWith: 'rejected',
    // Read at each decision: evidence attached during the review counts.
    guard: (decision) => (decision.outcome === 'approved' ? missingEvidence(assessment, gate.evidence) : undefined),
  });
  gate.reviewExpiresAt = null;
  publishSearchFields({ slaDueAt: null });
  gate.waitingFor = null;
  const reason = result.expired
    ? `not decided before the ${window.endsAt === 'planned_start' ? 'planned start' : 'review limit'}: expired as rejected`
    : (result.decisions.at(-1)?.comment ?? `${result.outcome} by ${result.decidedBy.join(' and ')}`);
  await gate.decide(
    `review:${result.taskId}`,
    result.outcome as GateOutcome,
    result.expired ? [system] : result.decidedBy,
    reason,
    result.taskId,
  );
  return result;
}

/** The requester's amendment, or undefined when none came before the planned start. */
async function awaitAmendment(gate: ChangeGate): Promise<AmendmentRequest | undefined> {
  gate.waitingFor = 'amendment';
  // An amendment accepted as the timer fires still counts: its handler waits for it to apply.
  await condition(() => gate.amendment !== undefined, ms(Date.parse(gate.change.plannedStart) - Date.now()));
  gate.waitingFor = null;
  return gate.amendment;
}

/** The amended change becomes the next revision, in review again; the amendChange Update then answers. */
async function applyAmendment(gate: ChangeGate, request: AmendmentRequest) {
  gate.change = { ...gate.change, ...request.changes };
  gate.assessment = request.assessment;
  publishSearchFields({ risk: request.assessment.risk });
  gate.evidence = [...gate.evidence, ...newEvidence(gate.evidence, request.evidence ?? [])];
  await records.recordAmendment({
    changeId: gate.changeId,
    actor: request.actor.principalId,
    revision: gate.revision + 1,
    changes: request.changes,
    evidence: gate.evidence,
    assessment: gate.assessment,
  });
  gate.revision += 1;
  gate.status = 'in_review';
  gate.amendment = undefined;
  gate.tellItsm('amended', { fields: Object.keys(request.changes) });
}

/** The implementation report, or undefined when none came within the grace period after the planned end. */
async function awaitImplementationReport(gate: ChangeGate): Promise<ImplementationReport | undefined> {
  gate.waitingFor = 'implementation_report';
  await condition(
    () => gate.implementation !== undefined,
    ms(Date.parse(gate.change.plannedEnd) + implementationReportGraceMs - Date.now()),
  );
  gate.waitingFor = null;
  return gate.implementation;
}

async function closeNotImplemented(gate: ChangeGate) {
  await gate.decide(
    'implementation-window',
    'not_implemented',
    [system],
    'no implementation was reported within 30 days of the planned end',
    null,
  );
}

/**
 * Post-implementation review: the tests of the affected CIs' controls run, the baseline is checked
 * against their results, and a broken baseline opens an incident.
 */
async function verify(gate: ChangeGate, report: ImplementationReport) {
  await records.recordImplementation({
    changeId: gate.changeId,
    actor: report.actor.principalId,
    implementedAt: report.implementedAt,
    notes: report.notes,
  });
  gate.status = 'verifying';
  gate.waitingFor = 'verification';
  // Changes implemented before the gate ran the tests itself only read the recorded results.
  const testsRun = patched('change-gate-runs-security-tests');
  const incidentsByControl = testsRun ? await runSecurityTests(gate) : new Map<string, string>();
  const baseline = await verification.verifyBaseline({ changeId: gate.changeId, ciIds: gate.change.affectedCis });
  gate.verification = baseline;
  await records.recordVerification({ changeId: gate.changeId, verification: baseline });
  gate.status = verifiedStatus(baseline);
  gate.waitingFor = null;
  if (testsRun) {
    // A failed test opened its own incident (linked back to this change): link it here rather than
    // open a second one; the gate opens its own only for failing measures no failed test reported.
    for (const opened of new Set(incidentsByControl.values())) await linkIncident(gate, opened);
    const uncovered = baseline.checks.filter(
      (check) => check.status === 'fails' && !(check.controlId && incidentsByControl.has(check.controlId)),
    );
    if (uncovered.length > 0) await openIncident(gate, baseline, uncovered);
  } else if (gate.status === 'baseline_failed') {
    await openIncident(
      gate,
      baseline,
      baseline.checks.filter((check) => check.status === 'fails'),
    );
  }
  gate.tellItsm('verification', { outcome: baseline.outcome, summary: baseline.summary, incidentId: gate.incidentId });
}

/**
 * Runs the tests of the controls protecting the affected CIs, in parallel, and waits for their
 * reports (a manual test waits for its tester, up to its own deadline). Returns the incidents the
 * failed tests opened, by control.
 */
async function runSecurityTests(gate: ChangeGate): Promise<Map<string, string>> {
  const controlIds = await verification.controlsToTest({ ciIds: gate.change.affectedCis });
  // Workflow time is replayed, so a retried workflow task derives the same run ids and starts each test once.
  const startedAt = new Date();
  const outcomes = await Promise.allSettled(
    controlIds.map((controlId) => {
      const test: SecurityTestInput = { controlId, requestedBy: workflowInfo().workflowId, links: [gate.subject] };
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

async function linkIncident(gate: ChangeGate, id: string) {
  gate.incidentId ??= id;
  await records.linkChangeIncident({ changeId: gate.changeId, incidentId: id });
}

async function openIncident(gate: ChangeGate, failed: BaselineVerification, failing: BaselineVerification['checks']) {
  // uuid4() is deterministic in a workflow: a retried workflow task starts the same child, once.
  const id = uuid4();
  const incident: IncidentPlaybookInput = {
    incidentId: id,
    title: `Security baseline broken after change: ${gate.change.title}`,
    description: `${failed.summary}\n${failing.map((check) => `- ${check.measureId} ${check.title} on CI ${check.ciId}: ${check.detail}`).join('\n')}`,
    category: 'other',
    threatens: [...new Set(failing.map((check) => check.aspect))],
    affectedCis: [...new Set(failing.map((check) => check.ciId))],
    source: 'change-gate',
    reportedBy: system,
    reportedAt: new Date().toISOString(),
    detectedAt: failed.verifiedAt,
    links: [{ type: 'change', id: gate.changeId }],
    fingerprint: `change/${gate.changeId}/baseline`,
  };
  await startChild(incidentPlaybookWorkflowType, {
    workflowId: makeIncidentWorkflowId(id),
    args: [incident],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  });
  await linkIncident(gate, id);
}

function requireRequester(gate: ChangeGate, actor: DecidingActor) {
  if (actor.principalId !== gate.input.requester) refuse(changeRefusalTypes.notRequester, 'only the requester of the change may do this');
}

function requireStatus(gate: ChangeGate, allowed: ChangeStatus[], what: string) {
  if (!allowed.includes(gate.status))
    refuse(changeRefusalTypes.wrongStatus, `${what} only while the change is ${allowed.join(' or ')}; it is ${gate.status}`);
}

function refuse(type: string, message: string): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
}

const ms = (value: number) => `${Math.max(1, Math.round(value))}ms`;
