import { type IncidentCategory, type SecurityAspect, type Severity, categoryImpact, securityAspects } from './classification';
import { durationMs, type DurationText } from './duration';
import type { CarriedTask, CarriedTasks } from './human-task';
import type { ProcessFailure } from './failure';
import type { Observable } from './observable';
import type { Playbook } from './playbook';
import type { SlaTarget } from './sla';

// The incident process's contract, shared by the workflow that runs it, the activities that record
// it, the processes that open incidents (security tests, changes, SIEM intake) and the servers.

/** The workflow type's wire name: running incidents and recorded histories carry it. */
export const incidentPlaybookWorkflowType = 'incidentPlaybook';
export const makeIncidentWorkflowId = (incidentId: string) => `incident/${incidentId}`;

/** A record another process links the incident to: the failing test run, the change, the alert. */
export interface IncidentLink {
  type: string;
  id: string;
}

export interface IncidentPlaybookInput {
  incidentId: string;
  title: string;
  description: string;
  category: IncidentCategory;
  affectedCis: string[];
  source: string;
  reportedBy: string;
  reportedAt: string;
  occurredAt?: string;
  detectedAt?: string;
  drill?: boolean;
  /** Aspects a category-`other` incident threatens; other categories threaten theirs by definition. */
  threatens?: SecurityAspect[];
  links?: IncidentLink[];
  fingerprint?: string;
  /** The least severity the incident gets whatever its CIs imply: the SIEM's own, or high for a known IOC. */
  severityFloor?: Severity;
  /** ATT&CK technique ids, already validated against the catalogue. */
  attackTechniques?: string[];
  /** Set only by the workflow itself when it continues as new; never by a caller. */
  continuation?: IncidentContinuation;
}

/**
 * What an unacknowledged incident hands its next run when it continues as new to keep its history
 * bounded: it is registered and announced already, its acknowledge task (and any communication
 * awaiting approval) stays open under the same id, escalation level and deciders.
 */
export interface IncidentContinuation {
  step: 'acknowledge';
  registered: RegisteredIncident;
  tasks: CarriedTasks;
  /** External communications whose approval task is open. */
  communications: CommunicationRequest[];
  /** Tasks moved here from incidents merged into this one, still open (absent from runs before merges moved tasks). */
  moved?: MovedTask[];
  /** How many runs came before this one. */
  runs: number;
}

export interface IncidentPlaybookResult {
  status: string;
  /** Null when the incident could not be registered, so was never classified. */
  severity: Severity | null;
  /** The permanent failure that ended the incident (`registration_failed` or `failed`). */
  failure?: ProcessFailure;
}

/** What `incidentStateQuery` answers while the incident runs. */
export interface IncidentState {
  incidentId: string;
  status: string;
  severity: Severity | null;
  securityIncident: boolean | null;
  currentStep: string | null;
  openTaskIds: string[];
  acknowledgeEscalations: number;
  pendingCommunications: number;
  /** The SLA clocks as the workflow times them; absent from incidents registered before SLA clocks. */
  sla?: IncidentSlaClock[];
}

/**
 * One SLA target as the workflow times it: due at an instant computed once by an activity (in the
 * services' support hours), so the timer the workflow sets is deterministic; met or breached once.
 */
export interface IncidentSlaClock {
  target: SlaTarget;
  duration: string;
  dueAt: string;
  metAt: string | null;
  breachedAt: string | null;
}

/** The `requestCommunication` Update's payload: an external communication awaiting approval. */
export interface CommunicationRequest {
  communicationId: string;
  audience: string;
  message: string;
  requestedBy: string;
}

/** The `mergeInto` Update's payload: this incident is a duplicate of `into`, which carries on. */
export interface MergeRequest {
  into: string;
  reason: string;
  requestedBy: string;
}

/**
 * The open tasks a merge moves from the duplicate to the incident that carries on: work that is
 * not the duplicate's own procedure (a playbook work step, a containment action to confirm, an
 * external communication awaiting approval). The duplicate's acknowledge, triage, approvals and
 * post-incident review are superseded by the survivor's own and are cancelled instead.
 */
export const movedTaskKinds = ['incident.step', 'incident.containment-confirmation', 'incident.communication'] as const;

/**
 * One moved task: its row keeps its id (so links to it keep working) and now names the survivor's
 * workflow, which waits on it with what the duplicate's run held of it.
 */
export interface MovedTask extends Omit<CarriedTask, 'key'> {
  kind: (typeof movedTaskKinds)[number];
  title: string;
  details: Record<string, unknown>;
  outcomes: string[];
  requester: string | null;
  forbidSelfDecision: boolean;
}

/** The `tasksMoved` Signal's payload: a merge moved these open tasks of `fromIncidentId` to this incident. */
export interface TasksMoved {
  fromIncidentId: string;
  tasks: MovedTask[];
}

/** The `severityRaised` Signal's payload: an attached alert or a merge raised the recorded severity. */
export interface SeverityRaised {
  severity: Severity;
  /** What raised it: `alert:<id>` or `merge:<incidentId>`, for the re-timing's audit. */
  cause: string;
}

/** ApplicationFailure types the incident's Updates refuse with (a conflict with its state). */
export const incidentRefusalTypes = { closed: 'IncidentClosed', merging: 'IncidentMerging', actionNotPending: 'ActionNotPending' } as const;

/**
 * The `actionResult` Update's payload: an automated responder that accepted an action (202) reports
 * how it ended, through the signed callback (`POST /incidents/:id/actions/:stepId/result`).
 */
export interface ActionResult {
  actionId: string;
  status: 'executed' | 'failed';
  detail: string;
}

/** How long an accepted action waited for its responder's callback in incidents registered before the wait was configurable. */
export const responderCallbackWait = '1h';

/**
 * How containment actions are waited for and escalated (WARDEN_RESPONDER_CALLBACK_WAIT and the
 * WARDEN_CONTAINMENT_… / WARDEN_FAILED_ACTION_… settings): recorded with the registration, so the
 * workflow's timers come from its history and a changed setting applies to new incidents.
 */
export interface ContainmentTiming {
  responderCallbackWait: DurationText;
  /** The containment-confirmation task's deadline. */
  confirmationDeadline: DurationText;
  /** A failed action escalates again this long after each escalation… */
  failedEscalationInterval: DurationText;
  /** …at most this many times. */
  failedEscalations: number;
}

/** The string a responder signs for a callback: replayed later, the timestamp is stale; replayed at once, the action is settled. */
export const callbackSigningString = (timestamp: string, actionId: string, result: { status: string; detail: string }) =>
  `${timestamp}.${actionId}.${result.status}.${result.detail}`;

/** The milestones an incident records once, each with its own audit action. */
export type IncidentTimestamp = 'acknowledged_at' | 'contained_at' | 'resolved_at' | 'closed_at';

/** The triage outcome that closes an incident as a false positive; it needs a reason in `data.reason`. */
export const falsePositiveOutcome = 'false_positive';

/** The reason a false-positive triage gives, or undefined when it gives none (the guard refuses then). */
export function falsePositiveReason(data: Record<string, unknown> | null | undefined): string | undefined {
  const reason = data?.reason;
  return typeof reason === 'string' && reason.trim() ? reason.trim().slice(0, 2000) : undefined;
}

/**
 * The task that asks a step's roles to confirm a containment action no responder carried out (none
 * configured, or it failed), with evidence. `containedAt` is stamped once it is confirmed. Its form
 * (evidence, links) is declared in domain/task-forms.ts.
 */
export const containmentConfirmationKind = 'incident.containment-confirmation';

export interface ContainmentEvidence {
  evidence: string;
  links: string[];
}

const evidenceLink = /^https?:\/\/[^\s]{1,2000}$/;

/** The confirmation's evidence, or why it is not enough (the guard's refusal, naming the field). */
export function containmentEvidence(data: Record<string, unknown> | null | undefined): ContainmentEvidence | string {
  const evidence = data?.evidence;
  if (typeof evidence !== 'string' || !evidence.trim()) return 'data.evidence: say what was done and how it was verified';
  if (evidence.length > 10_000) return 'data.evidence: at most 10000 characters';
  const links = data?.links ?? [];
  if (!Array.isArray(links) || links.length > 20) return 'data.links: a list of at most 20 links';
  const bad = links.findIndex((link) => typeof link !== 'string' || !evidenceLink.test(link));
  if (bad >= 0) return `data.links.${bad}: an http(s) link`;
  return { evidence: evidence.trim(), links: links as string[] };
}

/** The registered incident as the workflow needs it: its classification, targets and playbook. */
export interface RegisteredIncident {
  severity: Severity;
  securityIncident: boolean;
  reason: string;
  acknowledgeTarget: string;
  resolveTarget: string;
  playbook: Playbook;
  /** Absent from incidents registered before containment timing was configurable. */
  containment?: ContainmentTiming;
}

export const incidentStatuses = [
  'registered',
  'acknowledged',
  'triaged',
  'containment',
  'eradication',
  'recovery',
  'post_incident_review',
  'closed',
  'closed_not_security',
  // Merged into another incident, which carries on with its alerts, observables and tasks.
  'closed_duplicate',
  // Triage found no incident: the alert or report was a false positive (the reason is recorded).
  'closed_false_positive',
  // Ended by a permanent failure (domain/failure.ts): before registration, or at a later step.
  'registration_failed',
  'failed',
] as const;
export type IncidentStatus = (typeof incidentStatuses)[number];

/** An incident alerts may still join and others may be merged into: not closed, not failed. */
export function incidentIsOpen(status: string): boolean {
  return !status.startsWith('closed') && status !== 'failed' && status !== 'registration_failed';
}

/**
 * ITIL: an incident is a security incident when it threatens an SLA security requirement or the
 * security baseline of an affected CI. Every category but `other` threatens the aspects in its
 * impact table; an `other` incident does only when the reporter names a threatened aspect and
 * there is an affected CI whose baseline covers it (every CI has a baseline on every aspect).
 */
export function assessSecurityRelevance(
  category: IncidentCategory,
  threatens: readonly SecurityAspect[],
  affectedCiCount: number,
): { securityIncident: boolean; reason: string } {
  if (category !== 'other') {
    const aspects = Object.keys(categoryImpact[category]).join(', ');
    return { securityIncident: true, reason: `${category} threatens the ${aspects} baseline of the affected CIs` };
  }
  if (threatens.length === 0) {
    return { securityIncident: false, reason: 'category other with no threatened security aspect: not a security incident' };
  }
  if (affectedCiCount === 0) {
    return { securityIncident: false, reason: 'no affected CI, so no security baseline or SLA security requirement is threatened' };
  }
  return { securityIncident: true, reason: `threatens the ${threatens.join(', ')} baseline of ${affectedCiCount} affected CI(s)` };
}

/** The strictest of several targets (a CI in two services answers to the tighter SLA). */
export function strictest(targets: readonly DurationText[], fallback: DurationText): DurationText {
  return targets.reduce((best, target) => (durationMs(target) < durationMs(best) ? target : best), targets[0] ?? fallback);
}

export const alertFormats = ['generic', 'wazuh', 'splunk', 'elastic', 'sentinel'] as const;
export type AlertFormat = (typeof alertFormats)[number];

/** A SIEM alert in Warden's shape, whichever format it arrived in. */
export interface NormalisedAlert {
  format: AlertFormat;
  source: string;
  rule: string;
  severity: Severity;
  host: string | null;
  account: string | null;
  fingerprint: string;
  time: Date;
  description: string;
  category: IncidentCategory | undefined;
  /** Every indicator the alert carries, the account and host included. */
  observables: Observable[];
  /** ATT&CK technique ids the alert names, not yet checked against the catalogue. */
  techniques: string[];
}

/**
 * The incident a SIEM alert opens. An alert naming a known account is unauthorised access unless
 * the SIEM said otherwise, and it threatens every security aspect of what it names.
 */
export function incidentFromAlert(
  alert: NormalisedAlert,
  intake: {
    incidentId: string;
    reason: string;
    accountCiId?: string;
    hostCiId?: string;
    receivedBy: string;
    receivedAt: Date;
    /** Inferred from the ATT&CK techniques when the alert names no category. */
    category?: IncidentCategory;
    severityFloor: Severity;
    attackTechniques: string[];
  },
): IncidentPlaybookInput {
  return {
    incidentId: intake.incidentId,
    title: `${alert.rule}${alert.account ? ` (${alert.account})` : alert.host ? ` on ${alert.host}` : ''}`,
    description: `${alert.description}\n\n${intake.reason}`,
    category: alert.category ?? intake.category ?? (intake.accountCiId ? 'unauthorised_access' : 'other'),
    affectedCis: [intake.accountCiId, intake.hostCiId].filter((id): id is string => id !== undefined),
    threatens: [...securityAspects],
    source: `siem:${alert.source}`,
    reportedBy: intake.receivedBy,
    reportedAt: intake.receivedAt.toISOString(),
    occurredAt: alert.time.toISOString(),
    detectedAt: intake.receivedAt.toISOString(),
    fingerprint: alert.fingerprint,
    severityFloor: intake.severityFloor,
    attackTechniques: intake.attackTechniques,
  };
}
