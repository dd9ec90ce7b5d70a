import { settlePolicyVersion } from '../db/policies';
import { measureReview, openReview, planReview, recordOwnerReviews, recordSignOff } from '../db/reviews';
import type { OwnerReview, SignOffRecord } from '../domain/security-report/model';
import type { ActivityDeps } from './deps';

/** The security review cycle and policy approval; each write's idempotency is documented in db/reviews.ts and db/policies.ts. */
export function createReviewActivities({ db }: ActivityDeps) {
  return {
    /** Safe to retry: the review id (its period) is the primary key. */
    async openSecurityReview(input: {
      reviewId: string;
      workflowId: string;
      from: string;
      to: string;
      scope: string[] | null;
      requestedBy: string;
    }) {
      await openReview(db, input);
    },
    /** Safe to retry: the first stored measurement stands. */
    measureSecurityReview(input: { reviewId: string }) {
      return measureReview(db, input.reviewId);
    },
    /** Safe to retry: written only while the review waits for owners. */
    async recordOwnerReviews(input: { reviewId: string; reviews: OwnerReview[] }) {
      await recordOwnerReviews(db, input.reviewId, input.reviews);
    },
    /** Safe to retry: actions are keyed by (review, deviation). */
    planSecurityReview(input: { reviewId: string; securityManager: string }) {
      return planReview(db, input.reviewId, input.securityManager);
    },
    /** Safe to retry: a decision is applied only while the review awaits sign-off. */
    async recordReviewSignOff(input: { reviewId: string; decision: SignOffRecord }) {
      await recordSignOff(db, input.reviewId, input.decision);
    },
    /** Safe to retry: only a pending version is settled. */
    async settlePolicyVersion(input: { policyId: string; version: number; approved: boolean; decidedBy: string; comment: string | null }) {
      await settlePolicyVersion(db, input);
    },
  };
}

export type ReviewActivities = ReturnType<typeof createReviewActivities>;
