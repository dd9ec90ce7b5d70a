import { byRiskOrder, dueWithin, riskScore } from '../risk';
import type { Deviation, OwnerReview, SignOffRecord } from './model';

export interface ActionCandidate {
  key: string;
  title: string;
  description: string;
  owner: string;
  serviceId: string | null;
  riskScore: number;
  dueWithin: string;
}

/**
 * Step 3 of the review: every deviation, every change an owner reported and every addition the
 * Security Manager asked for becomes one improvement action, highest risk first.
 */
export function planActions(input: {
  deviations: readonly Deviation[];
  ownerReviews: readonly OwnerReview[];
  revisions: readonly SignOffRecord[];
  securityManager: string;
}): ActionCandidate[] {
  const fromDeviations: Deviation[] = [...input.deviations];
  for (const review of input.ownerReviews) {
    const base = { owner: review.owner, serviceId: review.serviceId, level: review.level };
    if (review.expired) {
      fromDeviations.push({
        ...base,
        key: `owner-review:${review.serviceId}`,
        title: `Confirm the security measures of ${review.serviceName}`,
        detail: 'the service owner did not answer the review in time',
        likelihood: 2,
        impact: 2,
      });
    }
    fromDeviations.push(
      ...review.riskChanges.map((change, index) => ({
        ...base,
        key: `owner-review:${review.serviceId}:${index}`,
        title: change.title,
        detail: change.detail ?? review.comment ?? 'risk change reported by the service owner',
        likelihood: change.likelihood,
        impact: change.impact,
      })),
    );
    if (review.outcome === 'changed' && review.riskChanges.length === 0) {
      fromDeviations.push({
        ...base,
        key: `owner-review:${review.serviceId}`,
        title: `Reassess the security measures of ${review.serviceName}`,
        detail: review.comment ?? 'the owner reported a changed risk perception',
        likelihood: 3,
        impact: 3,
      });
    }
  }
  input.revisions.forEach((revision, round) => {
    const base = { owner: input.securityManager, serviceId: null, level: 'medium' as const };
    const additions = revision.additions?.length
      ? revision.additions
      : [{ title: `Address the sign-off comments of round ${round + 1}`, detail: revision.comment ?? '', likelihood: 3, impact: 3 }];
    fromDeviations.push(
      ...additions.map((addition, index) => ({
        ...base,
        key: `sign-off:${round}:${index}`,
        title: addition.title,
        detail: addition.detail ?? revision.comment ?? '',
        likelihood: addition.likelihood,
        impact: addition.impact,
      })),
    );
  });
  return byRiskOrder(
    fromDeviations.map((d) => {
      const score = riskScore(d.likelihood, d.impact, d.level);
      return {
        key: d.key,
        title: d.title,
        description: d.detail,
        owner: d.owner ?? input.securityManager,
        serviceId: d.serviceId,
        riskScore: score,
        dueWithin: dueWithin(score),
      };
    }),
  );
}
