import { sql } from 'kysely';
import { linkPendingAudit } from '../audit-linker';
import { refusalTypes } from '../../domain/human-task';
import { loadAssets, servicesOf, touchesScope } from './assets';
import type { Measure } from './measure';

export const selfApprovalsRefused: Measure = {
  id: 'self-approvals-refused',
  title: 'Self-approvals of changes refused',
  definition: `Count of audit events task.decision_refused on a change in the period refused as ${refusalTypes.ownRequest} (a requester, or someone excluded with them, trying to decide the change's review), for changes touching a service in scope. Refusals are the control working, so they are counted, not listed as deviations.`,
  trend: true,
  async compute(db, period, scope) {
    const assets = await loadAssets(db, scope);
    // Refusals audited up to now count, linked or not yet.
    await linkPendingAudit(db);
    const rows = await db
      .selectFrom('audit_events as e')
      .innerJoin('changes as c', (join) => join.on(sql`c.id::text`, '=', sql.ref('e.subject_id')))
      .select(['c.affected_cis'])
      .where('e.action', '=', 'task.decision_refused')
      .where('e.subject_type', '=', 'change')
      .where(sql<string>`e.details->>'refusal'`, '=', refusalTypes.ownRequest)
      .where('e.occurred_at', '>=', period.from)
      .where('e.occurred_at', '<', period.to)
      .execute();
    const refused = rows.filter((row) => touchesScope(assets, servicesOf(assets, row.affected_cis))).length;
    return { status: 'measured', value: refused, unit: 'refusals', misses: [] };
  },
};
