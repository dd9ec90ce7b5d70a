import type { Entitlement } from '../../domain/access-review';
import type { DurationText } from '../../domain/duration';

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

export const campaignDefaults = { deadline: '14d', escalationPeriod: '7d' } as const;
