import type { Kysely } from 'kysely';
import type { Database } from '../database';
import { levelOf, loadAssets, servicesOf, touchesScope } from './assets';
import type { MeasureScope } from './measure';

/** Risks in the scope (those touching a scoped service through their CIs or by name), with their asset level. */
export async function scopedRisks(db: Kysely<Database>, scope: MeasureScope) {
  const assets = await loadAssets(db, scope);
  const rows = await db.selectFrom('risks').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.flatMap((risk) => {
    const services = servicesOf(assets, risk.affected_cis, risk.affected_services);
    return touchesScope(assets, services) ? [{ risk, services, level: levelOf(assets, risk.affected_cis, services) }] : [];
  });
}
