import { sql, type Kysely } from 'kysely';
import type { Database } from './database';

/** A drill incident and how the exercise went: how long people took, and the playbook steps skipped. */
export interface DrillResult {
  incidentId: string;
  number: number;
  category: string;
  status: string;
  reportedAt: Date;
  secondsToAcknowledge: number | null;
  secondsToContain: number | null;
  secondsToClose: number | null;
  stepsSkipped: number;
}

const secondsSince = (column: string) => sql<number | null>`extract(epoch from (${sql.ref(column)} - incidents.reported_at))::float8`;

/** The drills reported in [from, to), oldest first. */
export async function drillResults(db: Kysely<Database>, period: { from: Date; to: Date }): Promise<DrillResult[]> {
  const rows = await db
    .selectFrom('incidents')
    .select([
      'id',
      'number',
      'category',
      'status',
      'reported_at',
      secondsSince('incidents.acknowledged_at').as('to_acknowledge'),
      secondsSince('incidents.contained_at').as('to_contain'),
      secondsSince('incidents.closed_at').as('to_close'),
      sql<number>`(select count(*)::int from incident_steps s where s.incident_id = incidents.id and s.status = 'skipped')`.as('skipped'),
    ])
    .where('drill', '=', true)
    .where('reported_at', '>=', period.from)
    .where('reported_at', '<', period.to)
    .orderBy('reported_at')
    .execute();
  return rows.map((row) => ({
    incidentId: row.id,
    number: row.number,
    category: row.category,
    status: row.status,
    reportedAt: row.reported_at,
    secondsToAcknowledge: row.to_acknowledge,
    secondsToContain: row.to_contain,
    secondsToClose: row.to_close,
    stepsSkipped: row.skipped,
  }));
}
