import type { Kysely } from 'kysely';
import type { Database } from '../database';
import { loadAssets, servicesOf, touchesScope } from './assets';
import type { MeasurePeriod, MeasureScope } from './measure';

/** Changes submitted in the period, with the services their affected CIs belong to, in scope. */
export async function changesInPeriod(db: Kysely<Database>, period: MeasurePeriod, scope: MeasureScope) {
  const assets = await loadAssets(db, scope);
  const rows = await db
    .selectFrom('changes')
    .select(['id', 'title', 'requester', 'affected_cis', 'security_impact', 'assessment'])
    .where('created_at', '>=', period.from)
    .where('created_at', '<', period.to)
    .orderBy('created_at')
    .execute();
  return {
    assets,
    changes: rows
      .map((change) => ({ change, services: servicesOf(assets, change.affected_cis) }))
      .filter(({ services }) => touchesScope(assets, services)),
  };
}
