import type { Kysely } from 'kysely';
import type { Database, Incident } from '../database';
import { loadAssets, servicesOf, touchesScope, type ServiceAsset } from './assets';
import type { MeasurePeriod, MeasureScope } from './measure';

export const incidentSelection = 'security incidents reported in the period, drills excluded';

/** Security incidents reported in the period (drills excluded), each with the services it touched. */
export async function incidentsInPeriod(db: Kysely<Database>, period: MeasurePeriod, scope: MeasureScope) {
  const assets = await loadAssets(db, scope);
  const rows = await db
    .selectFrom('incidents')
    .selectAll()
    .where('drill', '=', false)
    .where('security_incident', '=', true)
    .where('reported_at', '>=', period.from)
    .where('reported_at', '<', period.to)
    .orderBy('number')
    .execute();
  return {
    assets,
    incidents: rows
      .map((incident) => ({ incident, services: servicesOf(assets, incident.affected_cis) }))
      .filter(({ services }) => touchesScope(assets, services)),
  };
}

export type IncidentInPeriod = { incident: Incident; services: ServiceAsset[] };
