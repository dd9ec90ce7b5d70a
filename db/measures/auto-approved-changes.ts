import { sql } from 'kysely';
import type { CheckedRecord } from '../../domain/security-report/model';
import { loadAssets, servicesOf, touchesScope } from './assets';
import type { Measure } from './measure';

/** One in ten auto-approved changes, at least one and at most twenty, is drawn for checking. */
export const autoApprovalSampleSize = (count: number) => (count === 0 ? 0 : Math.min(20, Math.max(1, Math.ceil(count / 10))));

export const autoApprovedChanges: Measure = {
  id: 'auto-approved-changes',
  title: 'Changes the gate approved without review',
  definition:
    'Count of changes submitted in the period whose final gate decision was an auto-approval (decision key auto:*), for changes touching a service in scope. Each is listed with the reason the gate recorded; a sample (one in ten, at least one, at most twenty, drawn by a hash of the change id and the period so the same review draws the same sample) is marked for the reviewer to check after the fact.',
  trend: true,
  async compute(db, period, scope) {
    const assets = await loadAssets(db, scope);
    const rows = await db
      .selectFrom('changes as c')
      .innerJoin('change_decisions as d', 'd.change_id', 'c.id')
      .select(['c.id', 'c.title', 'c.requester', 'c.affected_cis', 'd.reason'])
      .where('c.created_at', '>=', period.from)
      .where('c.created_at', '<', period.to)
      .where('d.decision_key', 'like', 'auto:%')
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('change_decisions as later')
              .select('later.change_id')
              .whereRef('later.change_id', '=', 'c.id')
              .whereRef('later.decided_at', '>', 'd.decided_at'),
          ),
        ),
      )
      .orderBy(sql`md5(c.id::text || ${period.from.toISOString()})`)
      .execute();
    const inScope = rows.filter((row) => touchesScope(assets, servicesOf(assets, row.affected_cis)));
    const sample = autoApprovalSampleSize(inScope.length);
    const records: CheckedRecord[] = inScope.map((row, index) => ({
      key: `auto-approved-changes:${row.id}`,
      title: `Change "${row.title}" (${row.id}) requested by ${row.requester}`,
      detail: row.reason,
      sampled: index < sample,
    }));
    return {
      status: 'measured',
      value: inScope.length,
      unit: 'changes',
      breakdown: [
        { label: 'auto-approved', value: inScope.length },
        { label: 'sampled for checking', value: sample },
      ],
      misses: [],
      records,
    };
  },
};
