import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { IncidentActivities } from '../../activities/incidents';
import type { NotificationActivities } from '../../activities/notifications';
import type { TaskActivities } from '../../activities/tasks';
import type { IncidentCategory } from '../../domain/classification';
import { sanitiseText, type ProcessFailure } from '../../domain/failure';
import {
  containmentConfirmationKind,
  containmentEvidence,
  falsePositiveOutcome,
  falsePositiveReason,
  incidentRefusalTypes,
  responderCallbackWait,
  type ActionResult,
  type CommunicationRequest,
  type ContainmentEvidence,
  type IncidentPlaybookInput,
  type IncidentPlaybookResult,
  type IncidentState,
  type IncidentTimestamp,
  type MergeRequest,
  type MovedTask,
  type RegisteredIncident,
  type SeverityRaised,
} from '../../domain/incident';
import type { DecisionRequest } from '../../domain/human-task';
import { durationMs } from '../../domain/duration';
import { phaseEnds, type PlaybookAction, type PlaybookStep } from '../../domain/playbook';
import { systemActor, type Role } from '../../domain/roles';
import { HumanTasks, type EscalationStep, type HumanTaskSpec } from '../human-task';
import { publishSearchFields } from '../search-attributes';
import { endVisiblyPatch, permanentFailureOf, recordProcessFailure } from '../permanent-failure';
import {
  actionResultUpdate,
  incidentStateQuery,
  mergeIntoUpdate,
  requestCommunicationUpdate,
  severityRaisedSignal,
  tasksMovedSignal,
} from './definitions';
import { rethrowUnlessCancelled, SlaClocks, slaClocksPatch, slaDueSearchAttributePatch } from './sla-clocks';

// Incident records are small PostgreSQL writes: retry until the database is back, never drop one.
// Unbounded on purpose: what PostgreSQL refuses for good (bad data, a constraint) fails at once,
// non-retryable (activities/permanent-failures.ts), so only unavailability and bugs retry here.
const incidents = proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});
// The notifier bounds its own deliveries per channel; the notification row is a PostgreSQL write
// retried, like the records, until the database is back.
const { notify } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

// A moved task whose survivor ended before it heard of it has nobody waiting on it: closing its row
// is a short PostgreSQL write, retried until the database is back.
const { closeHumanTask } = proxyActivities<TaskActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

const responders: Role[] = ['security_manager', 'security_analyst'];
/** Marks histories in which containment waits and escalates as configured (ContainmentTiming) rather than by constants. */
const containmentTimingPatch = 'warden-containment-timing';
/** Marks histories in which a merge moves the duplicate's open work tasks to the survivor instead of cancelling them. */
const mergeMovesTasksPatch = 'warden-merge-moves-tasks';
/** Marks histories in which triage may close an incident as a false positive. */
const falsePositivePatch = 'incident-false-positive';
/** Marks histories in which an action no responder carried out waits for a person's confirmation. */
const confirmedContainmentPatch = 'incident-confirmed-containment';

/**
 * ITIL Security Management's incident procedure: register, classify, notify the Security Manager,
 * acknowledge within the SLA (escalating until someone does), triage, run the category's playbook
 * (containment only after approval), review after the fact, close. A step PostgreSQL refuses for
 * good ends the incident visibly instead of wedging it: see `endIncidentVisibly`.
 */
export async function incidentPlaybookWorkflow(input: IncidentPlaybookInput): Promise<IncidentPlaybookResult> {
  try {
    return await runUnlessMerged(input);
  } catch (error) {
    const failure = permanentFailureOf(error);
    if (!failure || !patched(endVisiblyPatch)) throw error;
    return endIncidentVisibly(input, failure, error);
  }
}

/**
 * Runs the procedure until it ends, or until an analyst merges the incident into another: then
 * whatever step it was on is cancelled (its activities, timers and task waits), and the merge is
 * recorded. A scope and a condition add no commands, so recorded histories replay unchanged.
 */
async function runUnlessMerged(input: IncidentPlaybookInput): Promise<IncidentPlaybookResult> {
  let merge: MergeRequest | undefined;
  let ended = false;
  setHandler(
    mergeIntoUpdate,
    (request) => {
      merge = request;
      return { mergedInto: request.into };
    },
    {
      validator: (request: MergeRequest) => {
        if (ended)
          throw ApplicationFailure.create({ type: incidentRefusalTypes.closed, message: 'the incident is closed', nonRetryable: true });
        if (merge) {
          throw ApplicationFailure.create({
            type: incidentRefusalTypes.merging,
            message: 'the incident is being merged already',
            nonRetryable: true,
          });
        }
        if (request.into === input.incidentId) {
          throw ApplicationFailure.create({
            type: incidentRefusalTypes.merging,
            message: 'an incident cannot be merged into itself',
            nonRetryable: true,
          });
        }
      },
    },
  );
  const procedure = new CancellationScope();
  const running = procedure
    .run(() => runIncident(input))
    .finally(() => {
      ended = true;
    });
  const outcome = await Promise.race([running.then((result) => ({ result })), condition(() => merge !== undefined).then(() => null)]);
  if (outcome) return outcome.result;
  procedure.cancel();
  await running.catch((error) => {
    if (!isCancellation(error)) throw error;
  });
  const request = merge as MergeRequest;
  publishSearchFields({ status: 'closed_duplicate', slaDueAt: null });
  const moveTasks = patched(mergeMovesTasksPatch);
  const merged = await incidents.mergeIncident({
    incidentId: input.incidentId,
    workflowId: workflowInfo().workflowId,
    ...request,
    ...(moveTasks ? { moveTasks } : {}),
  });
  if (moveTasks) await handOverToSurvivor(input.incidentId, merged);
  return { status: 'closed_duplicate', severity: merged.severity };
}

/**
 * Tells the survivor's workflow what the merge gave it: the open work tasks now re-pointed to it
 * (it waits on them from then on) and its severity, which the merge may have raised (it re-times
 * its open SLA targets). Signalled from here, after the merge is recorded, so the survivor never
 * hears of a move that did not happen.
 */
async function handOverToSurvivor(incidentId: string, merged: Awaited<ReturnType<IncidentActivities['mergeIncident']>>) {
  const survivor = getExternalWorkflowHandle(merged.survivor.workflowId);
  try {
    if (merged.movedTasks.length > 0) await survivor.signal(tasksMovedSignal, { fromIncidentId: incidentId, tasks: merged.movedTasks });
    await survivor.signal(severityRaisedSignal, { severity: merged.survivor.severity, cause: `merge:${incidentId}` });
  } catch (error) {
    if (isCancellation(error)) throw error;
    // The API merges only into an open incident, but it may have ended since: nobody would decide
    // the moved tasks, so they close instead of staying open for ever.
    for (const task of merged.movedTasks) {
      await closeHumanTask({
        taskId: task.taskId,
        status: 'cancelled',
        outcome: null,
        reason: `incident #${merged.survivor.number} ended before the task could move to it`,
      });
    }
  }
}

/**
 * A permanent failure ends the incident where the API shows it: an incident whose registration
 * failed gets a minimal, sanitised row with status `registration_failed` (so its id never answers
 * 404); a registered one moves to `failed` with the failure in its timeline. The Security Manager
 * is told either way, and the workflow completes with that status.
 */
async function endIncidentVisibly(input: IncidentPlaybookInput, failure: ProcessFailure, cause: unknown): Promise<IncidentPlaybookResult> {
  const registrationFailed = failure.step === 'registerIncident';
  const status = registrationFailed ? 'registration_failed' : 'failed';
  publishSearchFields({ status, slaDueAt: null });
  let recorded = true;
  try {
    if (registrationFailed) await incidents.recordFailedRegistration({ ...input, workflowId: workflowInfo().workflowId, failure });
    // The failure row, status `failed`, the open tasks cancelled and an `incident.failed` event.
    else
      await recordProcessFailure({
        workflowId: workflowInfo().workflowId,
        record: { process: 'incident', incidentId: input.incidentId },
        failure,
      });
  } catch (error) {
    // The record itself was refused (an id PostgreSQL cannot hold): still tell the Security
    // Manager, then fail the workflow so Temporal shows it.
    if (!permanentFailureOf(error)) throw error;
    recorded = false;
  }
  const drill = input.drill === true;
  await notify({
    dedupKey: `incident:${input.incidentId}:${status}`,
    recipientRoles: ['security_manager'],
    recipients: [],
    subject: { type: 'incident', id: input.incidentId },
    title: `${drill ? '[DRILL] ' : ''}Incident ${registrationFailed ? 'registration' : 'processing'} failed: ${sanitiseText(input.title, 200)}`,
    body: `${failure.step} failed for good (${failure.type}): ${failure.message}. The incident is recorded as ${status}; handle it by hand.`,
    drill,
  });
  if (!recorded) throw cause;
  return { status, severity: null, failure };
}

async function runIncident(input: IncidentPlaybookInput): Promise<IncidentPlaybookResult> {
  const carried = input.continuation;
  // The acknowledge step escalates for as long as nobody answers: the run continues as new before its history grows large.
  const tasks = new HumanTasks({ carried: carried?.tasks, boundHistory: true });
  const subject = { type: 'incident', id: input.incidentId };
  const drill = input.drill ?? false;
  const state: IncidentState = {
    incidentId: input.incidentId,
    status: 'registered',
    severity: null,
    securityIncident: null,
    currentStep: 'register',
    openTaskIds: [],
    acknowledgeEscalations: 0,
    pendingCommunications: 0,
  };
  // Titles are free text: they go to the memo, which the codec encrypts, never to a Search Attribute.
  publishSearchFields({ process: 'incident', subjectId: input.incidentId, drill, status: state.status }, { title: input.title });
  /** Communications from request to settlement; carried over only while their approval task waits. */
  const inFlight = new Map<string, CommunicationRequest>();
  /** Null in incidents recorded before SLA clocks, which replay without them. */
  let sla: SlaClocks | null = null;
  /** Work tasks merges moved here: arrived but not yet taken on, and taken on but not yet decided. */
  const arrivingTasks: MovedTask[] = [];
  const movedTasks = new Map<string, MovedTask>();
  /** The latest severity an attached alert or a merge raised, until the open targets are re-timed for it. */
  let raised: SeverityRaised | undefined;
  setHandler(tasksMovedSignal, (moved) => {
    arrivingTasks.push(...moved.tasks);
  });
  setHandler(severityRaisedSignal, (signal) => {
    raised = signal;
  });
  setHandler(incidentStateQuery, () => ({ ...state, openTaskIds: tasks.openTaskIds(), ...(sla ? { sla: sla.state() } : {}) }));
  setHandler(
    requestCommunicationUpdate,
    (request) => {
      void approveCommunication(request);
      return { communicationId: request.communicationId };
    },
    {
      validator: (_request: CommunicationRequest) => {
        if (state.status.startsWith('closed')) {
          throw ApplicationFailure.create({ type: incidentRefusalTypes.closed, message: 'the incident is closed', nonRetryable: true });
        }
      },
    },
  );

  /**
   * Results responders reported for actions they accepted. The API admits a callback only for an
   * action recorded as pending, which may reach the workflow just before the acceptance does; the
   * first result stands and a repeat is refused.
   */
  const actionResults = new Map<string, ActionResult>();
  setHandler(
    actionResultUpdate,
    (result) => {
      actionResults.set(result.actionId, result);
      return { actionId: result.actionId, status: result.status };
    },
    {
      validator: (result: ActionResult) => {
        if (actionResults.has(result.actionId)) {
          throw ApplicationFailure.create({
            type: incidentRefusalTypes.actionNotPending,
            message: `action ${result.actionId} has its result already`,
            nonRetryable: true,
          });
        }
      },
    },
  );

  /** Nothing the incident still owes: no communication awaiting approval, no moved task open, no handler running. */
  function settled(): boolean {
    return state.pendingCommunications === 0 && arrivingTasks.length === 0 && movedTasks.size === 0 && allHandlersFinished();
  }

  /** Takes on the work tasks each merge into this incident moves here, for as long as the procedure runs. */
  async function takeOnMovedTasks(): Promise<never> {
    for (;;) {
      await condition(() => arrivingTasks.length > 0);
      for (const task of arrivingTasks.splice(0)) void carryOnMovedTask(task).catch(rethrowUnlessCancelled);
    }
  }

  /**
   * Waits on a task a merge moved here, as the duplicate's run would have, and records what its
   * decision means here: a communication is sent (or not), a containment action is confirmed with
   * its evidence; a work step's decision is its own record. `resumed`: carried over continue-as-new.
   */
  async function carryOnMovedTask(task: MovedTask, resumed = false): Promise<void> {
    const key = `moved:${task.taskId}`;
    movedTasks.set(task.taskId, task);
    if (!resumed) tasks.adopt({ ...task, key });
    const confirmation = task.kind === containmentConfirmationKind;
    const result = await tasks.run({
      key,
      kind: task.kind,
      title: task.title,
      details: task.details,
      subject,
      allowedRoles: task.allowedRoles,
      assignees: task.assignees,
      outcomes: task.outcomes,
      ...(task.requester ? { requester: task.requester } : {}),
      forbidSelfDecision: task.forbidSelfDecision,
      ...(confirmation ? { guard: evidenceRequired } : {}),
      drill,
    });
    const decidedBy = result.decidedBy[0] ?? systemActor.principalId;
    const { communicationId, actionId } = task.details;
    if (task.kind === 'incident.communication' && typeof communicationId === 'string') {
      await incidents.settleCommunication({
        communicationId,
        incidentId: input.incidentId,
        approved: result.outcome === 'approved',
        decidedBy,
        taskId: result.taskId,
        drill,
      });
    } else if (confirmation && typeof actionId === 'string') {
      // The guard admitted only a decision with evidence.
      const { evidence, links } = containmentEvidence(result.data) as ContainmentEvidence;
      await incidents.confirmIncidentAction({ actionId, incidentId: input.incidentId, confirmedBy: decidedBy, evidence, links });
    }
    movedTasks.delete(task.taskId);
  }

  /** Re-times the open SLA targets whenever an attached alert or a merge raised the severity. */
  async function retimeWhenRaised(clocks: SlaClocks): Promise<never> {
    for (;;) {
      await condition(() => raised !== undefined);
      const { severity, cause } = raised as SeverityRaised;
      raised = undefined;
      if (severity === state.severity) continue;
      state.severity = severity;
      publishSearchFields({ severity });
      await clocks.retime(systemActor.principalId, severity, cause);
    }
  }

  async function setStatus(status: string, actor: string, stamp?: IncidentTimestamp, details?: Record<string, unknown>) {
    state.status = status;
    publishSearchFields({ status });
    await incidents.updateIncidentStatus({ incidentId: input.incidentId, status, actor, stamp, details });
  }

  async function approveCommunication(request: CommunicationRequest, resumed = false) {
    state.pendingCommunications += 1;
    inFlight.set(request.communicationId, request);
    if (!resumed) await incidents.recordCommunicationRequest({ ...request, incidentId: input.incidentId });
    const decision = await tasks.run({
      key: `communication:${request.communicationId}`,
      kind: 'incident.communication',
      title: `Approve external communication to ${request.audience}`,
      details: { audience: request.audience, message: request.message, communicationId: request.communicationId },
      subject,
      allowedRoles: ['security_manager'],
      outcomes: ['approved', 'rejected'],
      requester: request.requestedBy,
      drill,
    });
    await incidents.settleCommunication({
      communicationId: request.communicationId,
      incidentId: input.incidentId,
      approved: decision.outcome === 'approved',
      decidedBy: decision.decidedBy[0] ?? systemActor.principalId,
      taskId: decision.taskId,
      drill,
    });
    inFlight.delete(request.communicationId);
    state.pendingCommunications -= 1;
  }

  /**
   * Once the acknowledge task has escalated as often as one run keeps, and nothing is mid-write, the
   * incident continues as new with its open tasks; the same workflow id keeps receiving decisions.
   */
  async function continueWhileUnacknowledged(registered: RegisteredIncident): Promise<never> {
    const ready = () =>
      tasks.hasOpen('acknowledge') &&
      tasks.historyFull() &&
      tasks.quiescent() &&
      [...inFlight.keys()].every((id) => tasks.hasOpen(`communication:${id}`)) &&
      (sla?.quiescent() ?? true) &&
      raised === undefined &&
      arrivingTasks.length === 0 &&
      [...movedTasks.keys()].every((id) => tasks.hasOpen(`moved:${id}`)) &&
      allHandlersFinished();
    // Checked again in the same activation: a decision may have arrived since the condition held.
    do await condition(ready);
    while (!ready());
    return await continueAsNew<typeof incidentPlaybookWorkflow>({
      ...input,
      continuation: {
        step: 'acknowledge',
        registered,
        tasks: tasks.carry(),
        communications: [...inFlight.values()],
        ...(movedTasks.size > 0 ? { moved: [...movedTasks.values()] } : {}),
        runs: (carried?.runs ?? 0) + 1,
      },
    });
  }

  let registered: RegisteredIncident;
  // WardenSlaDueAt: the earliest open SLA clock, kept current by the clocks (histories from before published the acknowledge target only).
  const slaDueFromClocks = patched(slaDueSearchAttributePatch);
  if (carried) {
    // A continued run: registered and announced already; its open tasks resume where they were.
    registered = carried.registered;
    state.status = 'registered';
    state.severity = registered.severity;
    state.securityIncident = true;
    publishSearchFields({ severity: registered.severity });
    // In the procedure's scope: a merge cancels these approvals, which must not fail the workflow task.
    for (const request of carried.communications) void approveCommunication(request, true).catch(rethrowUnlessCancelled);
  } else {
    // Register and classify.
    registered = await incidents.registerIncident({ ...input, workflowId: workflowInfo().workflowId });
    state.severity = registered.severity;
    state.securityIncident = registered.securityIncident;
    publishSearchFields({ severity: registered.severity });
    if (!registered.securityIncident) {
      await setStatus('closed_not_security', systemActor.principalId, 'closed_at', { reason: registered.reason });
      return { status: state.status, severity: registered.severity };
    }

    if (!slaDueFromClocks) publishSearchFields({ slaDueAt: new Date(Date.now() + durationMs(registered.acknowledgeTarget)) });
    // Notify the Security Manager, then wait for an acknowledgement within the SLA target.
    await notify({
      dedupKey: `incident:${input.incidentId}:registered`,
      recipientRoles: ['security_manager'],
      recipients: [],
      subject,
      title: `${drill ? '[DRILL] ' : ''}Security incident (${registered.severity}): ${input.title}`,
      body: `${registered.reason}. Acknowledge within ${registered.acknowledgeTarget}.`,
      drill,
    });
  }
  // The acknowledge, triage and resolve targets run from registration, also across continued runs.
  if (patched(slaClocksPatch)) {
    sla = new SlaClocks(
      { incidentId: input.incidentId, title: input.title, severity: registered.severity, drill },
      responders,
      slaDueFromClocks,
    );
    await sla.start();
    void retimeWhenRaised(sla).catch(rethrowUnlessCancelled);
  }
  // Both wait for a Signal only newer code sends: they add nothing to histories recorded before.
  for (const task of carried?.moved ?? []) void carryOnMovedTask(task, true).catch(rethrowUnlessCancelled);
  void takeOnMovedTasks().catch(rethrowUnlessCancelled);
  state.currentStep = 'acknowledge';
  const acknowledging = tasks.run({
    key: 'acknowledge',
    kind: 'incident.acknowledge',
    title: `Acknowledge ${registered.severity} incident: ${input.title}`,
    details: { severity: registered.severity, target: registered.acknowledgeTarget },
    subject,
    allowedRoles: responders,
    outcomes: ['acknowledged'],
    forbidSelfDecision: false,
    deadline: registered.acknowledgeTarget,
    // Unacknowledged incidents escalate for as long as they stay unacknowledged.
    escalations: [{ notifyRoles: ['security_manager'], addRoles: ['admin'], extendBy: registered.acknowledgeTarget }],
    repeatLastEscalation: true,
    drill,
  });
  const acknowledgement = await Promise.race([acknowledging, continueWhileUnacknowledged(registered)]);
  state.acknowledgeEscalations = acknowledgement.escalations;
  const acknowledger = acknowledgement.decidedBy[0] ?? systemActor.principalId;
  // Whoever acknowledged answers for the open targets from the moment they decided.
  sla?.assign(acknowledger);
  if (!slaDueFromClocks) publishSearchFields({ slaDueAt: null });
  await setStatus('acknowledged', acknowledger, 'acknowledged_at');
  await sla?.meet('acknowledge', acknowledger);

  // Triage: scope, category and affected CIs; severity may change.
  state.currentStep = 'triage';
  const falsePositives = patched(falsePositivePatch);
  const triage = await tasks.run({
    kind: 'incident.triage',
    title: `Triage: record scope, category and affected CIs of "${input.title}"`,
    details: {
      category: input.category,
      affectedCis: input.affectedCis,
      ...(falsePositives ? { falsePositive: `outcome ${falsePositiveOutcome} with data.reason closes the incident` } : {}),
    },
    subject,
    allowedRoles: responders,
    outcomes: falsePositives ? ['triaged', falsePositiveOutcome] : ['triaged'],
    forbidSelfDecision: false,
    ...(falsePositives
      ? {
          guard: (decision) =>
            decision.outcome === falsePositiveOutcome && !falsePositiveReason(decision.data)
              ? 'data.reason: a false positive needs the reason it is one'
              : undefined,
        }
      : {}),
    drill,
  });
  const triager = triage.decidedBy[0] ?? systemActor.principalId;
  sla?.assign(triager);
  if (triage.outcome === falsePositiveOutcome) {
    // Triage found no incident: the targets stop (met by the closing), nothing is contained.
    await sla?.meet('triage', triager);
    await sla?.meet('resolve', triager);
    await incidents.closeAsFalsePositive({ incidentId: input.incidentId, actor: triager, reason: falsePositiveReason(triage.data) ?? '' });
    state.status = 'closed_false_positive';
    publishSearchFields({ status: state.status });
    await condition(settled);
    state.currentStep = null;
    return { status: state.status, severity: state.severity ?? registered.severity };
  }
  const triaged = await incidents.applyTriage({ incidentId: input.incidentId, actor: triager, ...triageData(triage.data) });
  await sla?.meet('triage', triager);
  if (triaged.severity !== state.severity) await sla?.retime(triager, triaged.severity);
  state.severity = triaged.severity;
  state.status = 'triaged';
  publishSearchFields({ status: state.status, severity: triaged.severity });

  // The category's playbook, at the version recorded when the incident was registered.
  const lastStepOfPhase = phaseEnds(registered.playbook.steps);
  for (const step of registered.playbook.steps) {
    state.currentStep = step.id;
    if (state.status !== step.phase) await setStatus(step.phase, systemActor.principalId);
    await runStep(step, triager, triaged.owners ?? []);
    const phaseDone = lastStepOfPhase.get(step.id);
    if (phaseDone === 'containment') await setStatus('containment', systemActor.principalId, 'contained_at');
  }
  await setStatus('post_incident_review', systemActor.principalId, 'resolved_at');
  await sla?.meet('resolve', triager);

  // Post-incident review: lessons become improvement actions; a recurring or unexplained cause
  // opens a problem record.
  state.currentStep = 'post-incident-review';
  const review = await tasks.run({
    kind: 'incident.post-incident-review',
    title: `Post-incident review of "${input.title}"`,
    details: { expects: { lessons: '[{title, owner?, dueInDays?}]', rootCause: 'known | unexplained', recurring: 'boolean' } },
    subject,
    allowedRoles: responders,
    outcomes: ['completed'],
    forbidSelfDecision: false,
    drill,
  });
  const reviewer = review.decidedBy[0] ?? systemActor.principalId;
  await incidents.recordPostIncidentReview({
    incidentId: input.incidentId,
    actor: reviewer,
    ...reviewFindings(review.data, reviewer, input.title),
  });

  // External communications still awaiting the Security Manager, and work moved here by a merge, are part of the incident.
  await condition(settled);
  state.currentStep = null;
  await setStatus('closed', reviewer, 'closed_at');
  return { status: state.status, severity: state.severity ?? registered.severity };

  // `owners` is absent from histories recorded before steps could name them; no step named them then.
  async function runStep(step: PlaybookStep, proposer: string, owners: string[]) {
    const record = (status: 'started' | 'completed' | 'skipped', extra: { taskId?: string; result?: Record<string, unknown> } = {}) =>
      incidents.recordIncidentStep({
        incidentId: input.incidentId,
        stepId: step.id,
        type: step.type,
        phase: step.phase,
        title: step.title,
        status,
        ...extra,
      });
    await record('started');
    switch (step.type) {
      case 'task': {
        const done = await tasks.run({
          kind: 'incident.step',
          title: step.title,
          details: { stepId: step.id, instructions: step.instructions ?? null },
          subject,
          allowedRoles: step.roles,
          ...(step.ownersTakePart ? { assignees: owners } : {}),
          outcomes: ['done'],
          forbidSelfDecision: false,
          deadline: step.deadline,
          drill,
        });
        await record('completed', { taskId: done.taskId, result: { by: done.decidedBy, data: done.data } });
        return;
      }
      case 'approval': {
        // The analyst who triaged proposes; the approver must be someone else.
        const approval = await tasks.run({
          kind: 'incident.approval',
          title: step.title,
          details: { stepId: step.id, instructions: step.instructions ?? null, action: step.action ?? null },
          subject,
          allowedRoles: step.roles,
          ...(step.ownersTakePart ? { assignees: owners } : {}),
          outcomes: ['approved', 'rejected'],
          requester: proposer,
          deadline: step.deadline,
          drill,
        });
        const approved = approval.outcome === 'approved';
        const result: Record<string, unknown> = { outcome: approval.outcome, by: approval.decidedBy };
        if (approved && step.action) result.action = await runAction(step, step.action, approval.decidedBy, step.roles);
        await record(approved ? 'completed' : 'skipped', { taskId: approval.taskId, result });
        return;
      }
      case 'action':
        await record('completed', { result: { action: await runAction(step, step.action, [], responders) } });
        return;
      case 'timer':
        await sleep(step.duration);
        await record('completed');
        return;
    }
  }

  async function runAction(step: PlaybookStep, action: PlaybookAction, approvedBy: string[], confirmers: Role[]) {
    const actionId = `${input.incidentId}:${step.id}`;
    let outcome = await incidents.runIncidentAction({ actionId, incidentId: input.incidentId, action, approvedBy, drill });
    if (outcome.status !== 'manual' && outcome.status !== 'failed' && outcome.status !== 'pending') return outcome;
    if (!patched(confirmedContainmentPatch)) return outcome;
    if (outcome.status === 'pending') {
      outcome = await awaitResponder(actionId);
      if (outcome.status === 'executed') return outcome;
    }
    return confirmAction(step, action, actionId, outcome, confirmers);
  }

  /** The configured containment timing, or undefined in incidents that ran before it (constants then, and no deadline). */
  function containmentTiming() {
    return registered.containment && patched(containmentTimingPatch) ? registered.containment : undefined;
  }

  /**
   * Nobody may leave a containment action unconfirmed unnoticed: past the configured deadline the
   * Security Manager is told and may confirm too. A failed action (the responder tried and could
   * not) keeps escalating at the configured interval until someone acts; bounded, so an abandoned
   * one stops notifying, and the task still waits.
   */
  function confirmationDeadline(failed: boolean): Pick<HumanTaskSpec, 'deadline' | 'escalations'> {
    const timing = containmentTiming();
    if (!timing) return {};
    const escalation: EscalationStep = {
      notifyRoles: ['security_manager'],
      addRoles: ['security_manager'],
      extendBy: timing.failedEscalationInterval,
    };
    return {
      deadline: timing.confirmationDeadline,
      escalations: Array.from({ length: failed ? timing.failedEscalations : 1 }, () => escalation),
    };
  }

  /** The responder accepted the action: its signed callback (or its silence) settles it. */
  async function awaitResponder(actionId: string): Promise<{ status: string; detail: string }> {
    const wait = containmentTiming()?.responderCallbackWait ?? responderCallbackWait;
    const answered = await condition(() => actionResults.has(actionId), wait);
    // Silence counts as a failure, and a late callback is refused like a repeated one.
    if (!answered) {
      const detail = `the responder accepted the action but reported no result within ${wait}`;
      actionResults.set(actionId, { actionId, status: 'failed', detail });
    }
    const result = actionResults.get(actionId) as ActionResult;
    await incidents.settleIncidentAction({ actionId, incidentId: input.incidentId, status: result.status, detail: result.detail });
    return result;
  }

  /**
   * No responder carried the action out (none configured, or it failed): the step's roles carry it
   * out by hand and confirm it with evidence; a failure also escalates to the Security Manager.
   * Until confirmed, the step (and so containment) is not over.
   */
  async function confirmAction(
    step: PlaybookStep,
    action: PlaybookAction,
    actionId: string,
    outcome: { status: string; detail: string },
    confirmers: Role[],
  ) {
    const name = action.kind === 'containment' ? action.name : action.kind;
    if (outcome.status === 'failed') {
      await notify({
        dedupKey: `action:${actionId}:failed`,
        recipientRoles: ['security_manager'],
        recipients: [],
        subject,
        title: `${drill ? '[DRILL] ' : ''}Containment action failed: ${name} on "${input.title}"`,
        body: `${outcome.detail}. It is waiting for someone to carry it out by hand and confirm it with evidence.`,
        drill,
      });
    }
    const confirmation = await tasks.run({
      kind: containmentConfirmationKind,
      title: `Carry out and confirm "${name}" (${outcome.status === 'failed' ? 'the responder failed' : 'no responder'}): ${step.title}`,
      details: {
        stepId: step.id,
        actionId,
        action: name,
        status: outcome.status,
        detail: outcome.detail,
      },
      subject,
      allowedRoles: confirmers,
      outcomes: ['confirmed'],
      forbidSelfDecision: false,
      guard: evidenceRequired,
      ...confirmationDeadline(outcome.status === 'failed'),
      drill,
    });
    const confirmedBy = confirmation.decidedBy[0] ?? systemActor.principalId;
    // The guard admitted only a decision with evidence, and the task never expires.
    const { evidence, links } = containmentEvidence(confirmation.data) as ContainmentEvidence;
    await incidents.confirmIncidentAction({ actionId, incidentId: input.incidentId, confirmedBy, evidence, links });
    return { status: 'confirmed', detail: outcome.detail, confirmedBy };
  }
}

/** A containment confirmation is taken only with evidence (domain/task-forms.ts draws the form). */
function evidenceRequired(decision: DecisionRequest): string | undefined {
  const evidence = containmentEvidence(decision.data);
  return typeof evidence === 'string' ? evidence : undefined;
}

function triageData(data: Record<string, unknown> | null): {
  scope?: string;
  category?: IncidentCategory;
  affectedCis?: string[];
  attackTechniques?: string[];
} {
  if (!data) return {};
  const strings = (value: unknown[]) => value.filter((item): item is string => typeof item === 'string');
  return {
    ...(typeof data.scope === 'string' ? { scope: data.scope } : {}),
    ...(typeof data.category === 'string' ? { category: data.category as IncidentCategory } : {}),
    ...(Array.isArray(data.affectedCis) ? { affectedCis: strings(data.affectedCis) } : {}),
    // ATT&CK techniques set at triage; the activity keeps those the catalogue knows.
    ...(Array.isArray(data.techniques) ? { attackTechniques: strings(data.techniques) } : {}),
  };
}

const dayMs = 86_400_000;

function reviewFindings(data: Record<string, unknown> | null, reviewer: string, title: string) {
  const lessons = (Array.isArray(data?.lessons) ? data.lessons : [])
    .filter(
      (l): l is Record<string, unknown> => typeof l === 'object' && l !== null && typeof (l as Record<string, unknown>).title === 'string',
    )
    .map((lesson) => ({
      id: uuid4(),
      title: lesson.title as string,
      owner: typeof lesson.owner === 'string' ? lesson.owner : reviewer,
      dueAt: typeof lesson.dueInDays === 'number' ? new Date(Date.now() + lesson.dueInDays * dayMs).toISOString() : null,
    }));
  const recurring = data?.recurring === true;
  const unexplained = data?.rootCause === 'unexplained';
  const problem =
    recurring || unexplained
      ? {
          id: uuid4(),
          title: `Problem behind incident "${title}"`,
          reason: [recurring && 'recurring cause', unexplained && 'unexplained root cause'].filter(Boolean).join(' and '),
        }
      : null;
  return { lessons, problem };
}
