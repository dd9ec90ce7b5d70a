import type { Kysely } from 'kysely';
import type { Observable } from '../domain/observable';
import type { Actor } from '../domain/roles';
import { auditedWrite } from './audit';
import type { Database } from './database';
import { incidentVisibleTo } from './incidents';

// Observables: what incidents and alerts saw, and the indicators analysts marked as IOCs.

/** Every alert and every incident (of those the actor may see) that saw an indicator, and whether it is an IOC. */
export async function sightings(db: Kysely<Database>, actor: Actor, observable: Observable) {
  const [alerts, incidents, ioc] = await Promise.all([
    db
      .selectFrom('alert_observables as o')
      .innerJoin('security_alerts_received as a', 'a.id', 'o.alert_id')
      .leftJoin('incidents', 'incidents.id', 'a.incident_id')
      .select(['a.id', 'a.source', 'a.rule', 'a.verdict', 'a.incident_id', 'a.observed_at'])
      .where('o.type', '=', observable.type)
      .where('o.value', '=', observable.value)
      // Whoever sees the alert's incident sees the alert; one that joined none, only the incident roles.
      .where(incidentVisibleTo(actor))
      .orderBy('a.observed_at', 'desc')
      .limit(500)
      .execute(),
    db
      .selectFrom('incident_observables as o')
      .innerJoin('incidents', 'incidents.id', 'o.incident_id')
      .select([
        'incidents.id',
        'incidents.number',
        'incidents.title',
        'incidents.status',
        'incidents.severity',
        'o.origin',
        'o.first_seen_at',
        'o.last_seen_at',
      ])
      .where('o.type', '=', observable.type)
      .where('o.value', '=', observable.value)
      .where(incidentVisibleTo(actor))
      .orderBy('o.last_seen_at', 'desc')
      .limit(500)
      .execute(),
    db.selectFrom('iocs').selectAll().where('type', '=', observable.type).where('value', '=', observable.value).executeTakeFirst(),
  ]);
  return { alerts, incidents, ioc };
}

/** Marks an indicator as an IOC; marking it again changes nothing. Audited. */
export async function markIoc(db: Kysely<Database>, input: Observable & { reason: string; actor: string }): Promise<boolean> {
  return auditedWrite(db, async (trx) => {
    const inserted = await trx
      .insertInto('iocs')
      .values({ type: input.type, value: input.value, reason: input.reason, marked_by: input.actor })
      .onConflict((oc) => oc.columns(['type', 'value']).doNothing())
      .returning('type')
      .executeTakeFirst();
    return inserted
      ? {
          actor: input.actor,
          action: 'ioc.marked',
          subjectType: 'observable',
          subjectId: `${input.type}:${input.value}`,
          details: { reason: input.reason },
        }
      : undefined;
  });
}

/** What an incident saw, for its detail view. */
export function incidentObservables(db: Kysely<Database>, incidentId: string) {
  return db
    .selectFrom('incident_observables as o')
    .leftJoin('iocs', (join) => join.onRef('iocs.type', '=', 'o.type').onRef('iocs.value', '=', 'o.value'))
    .select(['o.type', 'o.value', 'o.origin', 'o.first_seen_at', 'o.last_seen_at', 'iocs.marked_at'])
    .where('o.incident_id', '=', incidentId)
    .orderBy('o.type')
    .orderBy('o.value')
    .execute();
}
