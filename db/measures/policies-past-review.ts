import { day, type Measure } from './measure';

export const policiesPastReview: Measure = {
  id: 'policies-past-review',
  title: 'Policies past their review date',
  definition:
    'Count of active policies whose current approved version has next_review_at before the end of the period (or now); policies are not scoped to services.',
  trend: false,
  async compute(db, period) {
    const overdue = await db
      .selectFrom('policies')
      .innerJoin('policy_versions', (join) =>
        join.onRef('policy_versions.policy_id', '=', 'policies.id').onRef('policy_versions.version', '=', 'policies.current_version'),
      )
      .select(['policies.id', 'policies.title', 'policies.owner', 'policies.current_version', 'policy_versions.next_review_at'])
      .where('policies.status', '=', 'active')
      .where('policy_versions.next_review_at', '<', period.asOf)
      .orderBy('policy_versions.next_review_at')
      .execute();
    return {
      status: 'measured',
      value: overdue.length,
      unit: 'policies',
      misses: overdue.map((policy) => ({
        key: `policies-past-review:${policy.id}`,
        title: `Review policy "${policy.title}"`,
        detail: `version ${policy.current_version} was due for review ${day(policy.next_review_at)}`,
        owner: policy.owner,
        serviceId: null,
        likelihood: 3,
        impact: 3,
        level: 'medium' as const,
      })),
    };
  },
};
