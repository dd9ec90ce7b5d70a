// The contract of access management's two processes (access requests and access review campaigns),
// shared by the workflows, the activities that record them and the API that starts them.
import type { AccessRequestStatus, AccountFlag, Entitlement, ReviewItem } from './access-review';
import type { DurationText } from './duration';

export const accessRequestWorkflowType = 'accessRequest';
export const makeAccessRequestWorkflowId = (requestId: string) => `access-request/${requestId}`;

export const accessReviewCampaignWorkflowType = 'accessReviewCampaign';
export const accessReviewWorkflowPrefix = 'access-review/';
export const makeAccessReviewWorkflowId = (campaignId: string) => `${accessReviewWorkflowPrefix}${campaignId}`;
/** A Schedule appends the action time to this id, so each scheduled run is a campaign of its own. */
export const makeAccessReviewScheduleId = (scopeKey: string) => `access-review-schedule/${scopeKey}`;

export interface AccessRequestInput {
  requestId: string;
  ciId: string;
  accountId: string;
  beneficiary: string;
  requester: string;
  entitlements: Entitlement[];
  justification: string;
  /** Access ends at this time (ISO)… */
  until?: string;
  /** …or this long after it is provisioned. */
  for?: DurationText;
  /**
   * The request would create these separation-of-duties conflicts, and the requester asks the
   * Security Manager for an exception: granted, the access lapses when the exception expires.
   */
  /** Each approval escalates when undecided this long (WARDEN_ACCESS_APPROVAL_DEADLINE); absent on requests filed before. */
  approvalDeadline?: DurationText;
  sodException?: {
    rules: { id: string; name: string }[];
    reason: string;
    expiresAt: string;
  };
}

export interface AccessRequestResult {
  status: AccessRequestStatus;
}

/** One step of an access request's life, recorded with the audit event that names it. */
export interface AccessRequestStatusChange {
  requestId: string;
  status: AccessRequestStatus;
  actor: string;
  approvedBy?: string[];
  stamp?: 'decided_at' | 'provisioned_at' | 'revoked_at';
  expiresAt?: string | null;
  details?: Record<string, unknown>;
}

export type CampaignScope = { ciIds: string[] } | { serviceId: string };

export interface AccessReviewCampaignInput {
  /** Absent when a Schedule starts the campaign: the id is then taken from the workflow id. */
  campaignId?: string;
  scope: CampaignScope;
  startedBy: string;
  deadline?: DurationText;
  escalationPeriod?: DurationText;
  unusedAfterDays?: number;
}

export interface AccessReviewCampaignResult {
  completedOnTime: boolean;
}

export const campaignDefaults = { deadline: '14d', escalationPeriod: '7d' } as const;

/** One reviewer's accounts, flagged as they were when the campaign opened. */
export interface ReviewerList {
  reviewer: string;
  items: (ReviewItem & { flags: AccountFlag[] })[];
}

export interface OpenedCampaign {
  deadlineAt: string;
  reviewers: ReviewerList[];
}

export type ProvisioningOperation = 'grant' | 'revoke' | 'reduce';
export type ProvisioningStatus = 'executed' | 'failed' | 'awaiting_manual' | 'confirmed';

export interface ProvisioningRequest {
  /** Derived from the request or campaign and the account, so a retry finds the recorded action. */
  actionId: string;
  ciId: string;
  accountId: string;
  operation: ProvisioningOperation;
  entitlements: string[];
  subject: { type: 'access_request' | 'access_review'; id: string };
  approvedBy: string[];
}

export interface ProvisioningOutcome {
  status: ProvisioningStatus;
  method: 'webhook' | 'manual';
  detail: string;
}
