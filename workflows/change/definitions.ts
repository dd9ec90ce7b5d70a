import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  BaselineVerification,
  ChangeAssessment,
  ChangeDetails,
  ChangeEvidence,
  ChangeRisk,
  ChangeSource,
  ChangeStatus,
} from '../../domain/change-risk';
import type { DurationText } from '../../domain/duration';
import type { DecidingActor } from '../../domain/human-task';

/** The registered workflow type (workflows/index.ts exports the function under this name). */
export const changeSecurityGateWorkflowType = 'changeSecurityGate';
export const makeChangeWorkflowId = (changeId: string) => `change/${changeId}`;
export const changeReviewTaskKind = 'change_security_review';
export const changeReviewOutcomes = ['approved', 'rejected', 'changes_requested'] as const;

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

/** The requester amends a change a reviewer sent back; the review restarts on the amended change. */
export const amendChange = defineUpdate<ChangeUpdateResult, [AmendmentRequest]>('amendChange');
/** Evidence (a penetration test, a configuration review) attached while the review is open. */
export const addEvidence = defineUpdate<ChangeEvidence[], [EvidenceRequest]>('addEvidence');
/** The requester reports an approved change implemented; the gate then verifies the baseline. */
export const reportImplemented = defineUpdate<ChangeUpdateResult, [ImplementationReport]>('reportImplemented');
export const changeStateQuery = defineQuery<ChangeGateState>('changeStateQuery');

/** ApplicationFailure types the change Updates' validators throw; the API maps them to 403/409. */
export const changeRefusalTypes = {
  notRequester: 'NotChangeRequester',
  wrongStatus: 'WrongChangeStatus',
  staleRevision: 'StaleChangeRevision',
} as const;
