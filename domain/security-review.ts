// The contract of the security review cycle, shared by the workflows, the Schedule that starts them
// and the servers that start and read reviews.
import type { DurationText } from './duration';

export const securityReviewWorkflowType = 'securityReview';
export const scheduledSecurityReviewWorkflowType = 'scheduledSecurityReview';
export const makeReviewWorkflowId = (period: string) => `review/${period}`;
export const reviewScheduleId = 'security-review/quarterly';
/** 06:00 UTC on the first day of each quarter: the review of the quarter just ended. */
export const quarterlyReviewCron = ['0 6 1 1,4,7,10 *'];

/** How long people have; configurable per review so tests use seconds. */
export interface ReviewDeadlines {
  /** For each service owner to confirm or report changes, before the Security Manager is asked. */
  ownerReview?: DurationText;
  /** After escalating to the Security Manager, until the owner's task expires unanswered. */
  escalation?: DurationText;
}

export interface SecurityReviewInput {
  /** The period label, e.g. "2026-Q4"; also the review's id. */
  period: string;
  from: string;
  to: string;
  scope?: string[];
  requestedBy: string;
  /** Who owns actions no one else owns; defaults to the requester. */
  securityManager?: string;
  deadlines?: ReviewDeadlines;
}

export interface SecurityReviewResult {
  reviewId: string;
  actions: number;
  signOffRounds: number;
}

/** What the Schedule passes: the period is the quarter before the run. */
export interface ScheduledReviewInput {
  /** The cadence as it was set, kept here because the Schedule reports cron expressions back as calendars. */
  cadence: { cronExpressions?: string[]; every?: string[] };
  securityManager?: string;
  deadlines?: ReviewDeadlines;
}

export interface ScheduledReviewResult {
  period: string;
  started: boolean;
}

export interface ReviewState {
  reviewId: string;
  step: 'measure' | 'owner_review' | 'plan' | 'sign_off' | 'done';
  openTaskIds: string[];
  signOffRounds: number;
}
