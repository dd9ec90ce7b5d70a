// The contract of the change security gate, shared by its workflow, the activities that record it
// and the servers that start it, amend it and read its state. The message definitions themselves
// live in workflows/change/definitions.ts (they need the workflow SDK).
import { callbackAllowed } from './callbacks';
import type {
  BaselineVerification,
  ChangeAssessment,
  ChangeDetails,
  ChangeEvidence,
  ChangeRisk,
  ChangeSource,
  ChangeStatus,
} from './change-risk';
import type { DurationText } from './duration';
import type { DecidingActor } from './human-task';

/** The registered workflow type (workflows/index.ts exports the function under this name). */
export const changeSecurityGateWorkflowType = 'changeSecurityGate';
export const makeChangeWorkflowId = (changeId: string) => `change/${changeId}`;
export const changeReviewTaskKind = 'change_security_review';
export const changeReviewOutcomes = ['approved', 'rejected', 'changes_requested'] as const;

/** The statuses a gate decision moves a change to. */
export type GateOutcome = Extract<ChangeStatus, 'approved' | 'rejected' | 'changes_requested' | 'not_implemented'>;

export interface ChangeGateInput {
  changeId: string;
  requester: string;
  /** Who raised the change in the ITSM tool (its requester there): they may not review it either. */
  alsoExcluded: string[];
  source: ChangeSource;
  externalRef: Record<string, unknown> | null;
  change: ChangeDetails;
  evidence: ChangeEvidence[];
  assessment: ChangeAssessment;
  /** The configured longest review; the planned start cuts it shorter. */
  reviewLimit: DurationText;
  callbackUrl: string | null;
}

export interface ChangeGateResult {
  changeId: string;
  status: ChangeStatus;
  revision: number;
  incidentId: string | null;
}

export interface ChangeGateState {
  changeId: string;
  status: ChangeStatus;
  revision: number;
  risk: ChangeRisk;
  /** What the gate waits for now. */
  waitingFor: 'review' | 'amendment' | 'implementation_report' | 'verification' | null;
  openTaskIds: string[];
  reviewExpiresAt: string | null;
  evidence: ChangeEvidence[];
  verification: BaselineVerification | null;
  incidentId: string | null;
}

export interface AmendmentRequest {
  actor: DecidingActor;
  /** The revision the requester amended; a stale one is refused. */
  revision: number;
  /** Only the fields that changed. */
  changes: Partial<ChangeDetails>;
  evidence?: ChangeEvidence[];
  /** The assessment of the amended change, made by the API from the CMDB. */
  assessment: ChangeAssessment;
}

export interface EvidenceRequest {
  actor: DecidingActor;
  evidence: ChangeEvidence[];
}

export interface ImplementationReport {
  actor: DecidingActor;
  implementedAt: string;
  notes: string | null;
}

export interface ChangeUpdateResult {
  status: ChangeStatus;
  revision: number;
  risk: ChangeRisk;
}

/** ApplicationFailure types the change Updates' validators throw; the API maps them to 403/409. */
export const changeRefusalTypes = {
  notRequester: 'NotChangeRequester',
  wrongStatus: 'WrongChangeStatus',
  staleRevision: 'StaleChangeRevision',
} as const;

/** The fields a requester sends, from the API or an ITSM tool, before the gate resolves their CIs. */
export type RequestedChange = Omit<ChangeDetails, 'affectedCis' | 'problemId' | 'knownErrorId'> & {
  problemId?: string | null | undefined;
  knownErrorId?: string | null | undefined;
  evidence?: ChangeEvidence[] | undefined;
};

/** A change request as the gate receives it, whichever way it came in. */
export interface ChangeSubmission {
  requester: string;
  source: ChangeSource;
  externalRef: Record<string, unknown> | null;
  /** Who raised the change in the ITSM tool, when it came from one. */
  externalRequester: string | null;
  fields: RequestedChange;
  callbackUrl: string | null;
}

/** The details a submission asks for, before its CIs are resolved against the CMDB. */
export function requestedDetails(fields: RequestedChange): ChangeDetails {
  return { ...fields, affectedCis: [], problemId: fields.problemId ?? null, knownErrorId: fields.knownErrorId ?? null };
}

/**
 * The gate's input for a submission whose CIs were resolved and assessed: the ITSM tool's own
 * requester may not review the change either, and evidence sent with the request is on file from
 * the start.
 */
export function changeGateInput(
  changeId: string,
  submission: ChangeSubmission,
  resolved: { affectedCis: string[]; assessment: ChangeAssessment },
  reviewLimit: DurationText,
): ChangeGateInput {
  return {
    changeId,
    requester: submission.requester,
    alsoExcluded: submission.externalRequester ? [submission.externalRequester] : [],
    source: submission.source,
    externalRef: submission.externalRef,
    change: { ...requestedDetails(submission.fields), affectedCis: resolved.affectedCis },
    evidence: submission.fields.evidence ?? [],
    assessment: resolved.assessment,
    reviewLimit,
    callbackUrl: submission.callbackUrl,
  };
}

/**
 * Why a change may not ask for its decisions at `url`, or undefined when it may: callbacks need a
 * signing secret and allowed origins configured, and go only to those origins.
 */
export function callbackUrlProblem(
  url: string,
  settings: { allowedOrigins: readonly string[]; secret: string | undefined },
): string | undefined {
  if (!settings.secret || settings.allowedOrigins.length === 0)
    return 'callbacks are not configured on this Warden (WARDEN_CALLBACK_ALLOWED_ORIGINS, WARDEN_CALLBACK_SECRET)';
  if (!callbackAllowed(url, settings.allowedOrigins)) return 'the origin of this URL is not an allowed callback origin';
  return undefined;
}
