import { loadAssets, servicesOf, touchesScope } from './assets';
import { percent, type Measure } from './measure';

export const problemWorkaroundsChecked: Measure = {
  id: 'problem-workarounds-checked',
  title: 'Problems whose workaround passed a security check',
  definition:
    'Of the problems in scope (by their affected services and CIs) created before the end of the period that have a workaround, the share whose workaround is one a security check accepted (problem_proposals of kind workaround, status accepted, same text). The breakdown counts the problems, those with a workaround, and the proposals the check rejected in the period.',
  trend: true,
  async compute(db, period, scope) {
    const assets = await loadAssets(db, scope);
    const [problems, proposals] = await Promise.all([
      db
        .selectFrom('problems')
        .select(['id', 'workaround', 'affected_ci_ids', 'affected_service_ids'])
        .where('created_at', '<', period.to)
        .execute(),
      db
        .selectFrom('problem_proposals')
        .select(['problem_id', 'kind', 'text', 'status', 'decided_at'])
        .where('kind', '=', 'workaround')
        .execute(),
    ]);
    const inScope = problems.filter((p) => touchesScope(assets, servicesOf(assets, p.affected_ci_ids, p.affected_service_ids)));
    const ids = new Set(inScope.map((p) => p.id));
    const withWorkaround = inScope.filter((p) => p.workaround !== null);
    const checked = withWorkaround.filter((p) =>
      proposals.some((q) => q.problem_id === p.id && q.status === 'accepted' && q.text === p.workaround),
    );
    const rejected = proposals.filter(
      (q) =>
        ids.has(q.problem_id) &&
        q.status === 'rejected' &&
        q.decided_at !== null &&
        q.decided_at >= period.from &&
        q.decided_at < period.to,
    );
    return {
      status: 'measured',
      value: percent(checked.length, withWorkaround.length),
      unit: '%',
      breakdown: [
        { label: 'problems', value: inScope.length },
        { label: 'with a workaround', value: withWorkaround.length },
        { label: 'workaround security-checked', value: checked.length },
        { label: 'workarounds rejected by the check in the period', value: rejected.length },
      ],
      misses: [],
    };
  },
};
