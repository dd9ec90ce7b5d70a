import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { Severity } from '../domain/classification';
import type { IncidentSlaClock } from '../domain/incident';
import { completeSla, slaDueTimes, type ServiceSla, type SlaTarget } from '../domain/sla';
import { supportTimeBetween, type SupportHours } from '../domain/support-hours';
import { systemActor } from '../domain/roles';
import { auditedWrite } from './audit';
import { compiledPerShape, everyColumn } from './compiled-statements';
import { json } from './create-db';
import type { Database, IncidentSlaClock as ClockRow, IncidentSlaClocksTable } from './database';

// An incident's SLA clocks. The workflow times them; these writes record what it decided, each once.

const subjectType = 'incident';

function toClock(row: ClockRow): IncidentSlaClock {
  return {
    target: row.target as SlaTarget,
    duration: row.duration,
    dueAt: row.due_at.toISOString(),
    metAt: row.met_at?.toISOString() ?? null,
    breachedAt: row.breached_at?.toISOString() ?? null,
  };
}

/**
 * What an incident's clocks are timed from, in one read: its severity, its registration, and the SLAs
 * of the services its CIs serve, as stored (completed with the defaults).
 */
async function slaBasis(db: Kysely<Database> | Transaction<Database>, incidentId: string) {
  const { rows } = await sql<{ severity: Severity; reported_at: Date; slas: Parameters<typeof completeSla>[0][] }>`
    select i.severity, i.reported_at,
           coalesce((select json_agg(s.sla) from configuration_items ci join services s on s.id = ci.service_id
                      where ci.id = any(i.affected_cis)), '[]') as slas
      from incidents i
     where i.id = ${incidentId}`.execute(db);
  const incident = rows[0];
  if (!incident) throw new Error(`no incident ${incidentId} to time SLA clocks for`);
  const slas: ServiceSla[] = incident.slas.map((sla) => completeSla(sla));
  return { severity: incident.severity, reportedAt: incident.reported_at, slas };
}

/**
 * The incident's columns that sum up its clocks, over `clocks` (a relation of its clock rows): the
 * earliest due time of the targets still open (neither met nor stopped; breached ones first), and
 * whether any breached.
 */
function clockSummary(clocks: RawBuilder<unknown>) {
  return sql`sla_next_due_at = (select min(due_at) from ${clocks} where met_at is null and stopped_at is null),
             sla_breached = exists (select from ${clocks} where breached_at is not null)`;
}

/** Keeps the incident's summary of its clocks (`clockSummary`) current after they changed. */
async function refreshNextDue(trx: Transaction<Database>, incidentId: string): Promise<void> {
  const clocks = sql`(select * from incident_sla_clocks where incident_id = ${incidentId}) as clock`;
  await sql`update incidents set ${clockSummary(clocks)} where id = ${incidentId}`.execute(trx);
}

async function clocksOf(db: Kysely<Database> | Transaction<Database>, incidentId: string): Promise<IncidentSlaClock[]> {
  const rows = await db.selectFrom('incident_sla_clocks').selectAll().where('incident_id', '=', incidentId).orderBy('due_at').execute();
  return rows.map(toClock);
}

/**
 * Starts the acknowledge, triage and resolve clocks from the incident's registration, due in the
 * support hours of its services at its severity. Safe to retry: one row per incident and target,
 * inserted once; a retry (or a continued run) answers with the clocks as they are. Two round trips,
 * the incident with its services' SLAs, then the clocks written, the incident's next due time kept
 * and the clocks read back in one statement; nothing else writes an incident's clocks before they
 * start, so the two need no transaction around them.
 */
export async function startSlaClocks(db: Kysely<Database>, input: { incidentId: string }): Promise<IncidentSlaClock[]> {
  const { severity, reportedAt, slas } = await slaBasis(db, input.incidentId);
  const due = slaDueTimes(slas, severity, reportedAt);
  const clocks = sql.join(
    due.map(
      (clock) =>
        sql`(${input.incidentId}::uuid, ${clock.target}, ${severity}, ${clock.duration}, ${reportedAt}::timestamptz,
             ${clock.dueAt}::timestamptz, ${json(clock.supportHours)}::jsonb)`,
    ),
  );
  const written = await sql<ClockRow>`
    with inserted as (
      insert into incident_sla_clocks (incident_id, target, severity, duration, started_at, due_at, support_hours)
      values ${clocks}
      on conflict (incident_id, target) do nothing
      returning *),
    clocks as (
      select * from inserted
      union all
      select * from incident_sla_clocks
       where incident_id = ${input.incidentId} and target not in (select target from inserted)),
    kept as (update incidents set ${clockSummary(sql`clocks`)} where id = ${input.incidentId})
    select * from clocks order by due_at`.execute(db);
  return written.rows.map(toClock);
}

/**
 * Re-times the clocks still open (neither met nor breached) for the severity recorded now (settled
 * at triage, or raised by an attached alert or a merge: `cause`), still counted from registration. Safe to retry: it computes the same due times from the same
 * rows, and audits only when a due time moved.
 */
export async function retimeSlaClocks(
  db: Kysely<Database>,
  input: { incidentId: string; actor: string; cause?: string },
): Promise<IncidentSlaClock[]> {
  let clocks: IncidentSlaClock[] = [];
  await auditedWrite(db, async (trx) => {
    const { severity, reportedAt, slas } = await slaBasis(trx, input.incidentId);
    const due = slaDueTimes(slas, severity, reportedAt);
    const moved: { target: SlaTarget; dueAt: string }[] = [];
    for (const clock of due) {
      const updated = await trx
        .updateTable('incident_sla_clocks')
        .set({ severity, duration: clock.duration, due_at: clock.dueAt, support_hours: json(clock.supportHours) })
        .where('incident_id', '=', input.incidentId)
        .where('target', '=', clock.target)
        .where('met_at', 'is', null)
        .where('breached_at', 'is', null)
        .where('stopped_at', 'is', null)
        .where('due_at', '!=', clock.dueAt)
        .returning('target')
        .executeTakeFirst();
      if (updated) moved.push({ target: clock.target, dueAt: clock.dueAt.toISOString() });
    }
    await refreshNextDue(trx, input.incidentId);
    clocks = await clocksOf(trx, input.incidentId);
    return moved.length
      ? {
          actor: input.actor,
          action: 'incident.sla_retimed',
          subjectType,
          subjectId: input.incidentId,
          details: { severity, targets: moved, ...(input.cause ? { cause: input.cause } : {}) },
        }
      : undefined;
  });
  return clocks;
}

/** Stops a target's clock: met now, by `actor` (late when it was breached). Safe to retry: met once. */
export async function meetSlaClock(db: Kysely<Database>, input: { incidentId: string; target: SlaTarget; actor: string }): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('incident_sla_clocks')
      .set({ met_at: new Date(), met_by: input.actor })
      .where('incident_id', '=', input.incidentId)
      .where('target', '=', input.target)
      .where('met_at', 'is', null)
      .where('stopped_at', 'is', null)
      .execute();
    await refreshNextDue(trx, input.incidentId);
  });
}

/**
 * Records that a target passed its due time unmet: when, and who was responsible for it then.
 * Safe to retry: only an unmet, unbreached clock is marked, so the breach and its audit event are
 * recorded once; the answer says whether this call recorded it.
 */
export async function recordSlaBreach(
  db: Kysely<Database>,
  input: { incidentId: string; target: SlaTarget; responsible: string },
): Promise<{ recorded: boolean }> {
  const recorded = await auditedWrite(db, async (trx) => {
    const clock = await trx
      .updateTable('incident_sla_clocks')
      .set({ breached_at: new Date(), responsible: input.responsible })
      .where('incident_id', '=', input.incidentId)
      .where('target', '=', input.target)
      .where('met_at', 'is', null)
      .where('breached_at', 'is', null)
      .where('stopped_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (!clock) return undefined;
    await refreshNextDue(trx, input.incidentId);
    return {
      actor: systemActor.principalId,
      action: 'incident.sla_breached',
      subjectType,
      subjectId: input.incidentId,
      details: {
        target: input.target,
        severity: clock.severity,
        duration: clock.duration,
        dueAt: clock.due_at.toISOString(),
        breachedAt: clock.breached_at?.toISOString() ?? null,
        responsible: input.responsible,
      },
    };
  });
  return { recorded };
}

/**
 * Closes the clocks still running (not met) of an incident that ends without meeting them: merged
 * into another, whose own clocks go on, or failed. A stopped clock is neither open nor judged; a
 * breach recorded before stays. Safe to retry: only a clock neither met nor stopped is stopped.
 */
export async function stopSlaClocks(trx: Transaction<Database>, incidentId: string, reason: 'merged' | 'failed'): Promise<number> {
  const stopped = await trx
    .updateTable('incident_sla_clocks')
    .set({ stopped_at: new Date(), stop_reason: reason })
    .where('incident_id', '=', incidentId)
    .where('met_at', 'is', null)
    .where('stopped_at', 'is', null)
    .returning('target')
    .execute();
  await refreshNextDue(trx, incidentId);
  return stopped.length;
}

/** A clock as the API shows it: besides what the workflow times, whether it was stopped and what is left. */
export interface RecordedSlaClock extends IncidentSlaClock {
  stoppedAt: string | null;
  stopReason: 'merged' | 'failed' | null;
  supportHours: SupportHours;
}

/**
 * What a clock still open has left at `now`, in seconds of support time (negative when overdue):
 * for business hours a target due on Monday morning has the working hours until then, not the
 * weekend. Null once it is met or stopped.
 */
export function remainingSupportSeconds(clock: RecordedSlaClock, now: Date): number | null {
  if (clock.metAt !== null || clock.stoppedAt !== null) return null;
  return Math.round(supportTimeBetween(now, new Date(clock.dueAt), clock.supportHours) / 1000);
}

const clockColumns = everyColumn<IncidentSlaClocksTable>({
  incident_id: true,
  target: true,
  severity: true,
  duration: true,
  started_at: true,
  due_at: true,
  met_at: true,
  met_by: true,
  breached_at: true,
  responsible: true,
  stopped_at: true,
  stop_reason: true,
  support_hours: true,
});

/** Every clock of the incidents named, by incident and due time; one statement whatever the number of ids. */
const clocksOfIncidentsStatement = compiledPerShape<null, { incidentIds: string[] }, ClockRow>((db, _shape, value) =>
  db
    .selectFrom('incident_sla_clocks')
    .select(clockColumns)
    .where('incident_id', '=', sql<string>`any(${value('incidentIds')}::uuid[])`)
    .orderBy('incident_id')
    .orderBy('due_at'),
);

/** The clocks of several incidents at once, for lists and detail views. */
export async function slaClocksOf(db: Kysely<Database>, incidentIds: string[]): Promise<Map<string, RecordedSlaClock[]>> {
  const byIncident = new Map<string, RecordedSlaClock[]>();
  if (incidentIds.length === 0) return byIncident;
  for (const row of await clocksOfIncidentsStatement(db, null, { incidentIds })) {
    const clocks = byIncident.get(row.incident_id);
    // Added to toClock's object rather than spread into a new one: a fifth of the time over a page's clocks.
    const clock: RecordedSlaClock = Object.assign(toClock(row), {
      stoppedAt: row.stopped_at?.toISOString() ?? null,
      stopReason: row.stop_reason,
      supportHours: row.support_hours,
    });
    if (clocks) clocks.push(clock);
    else byIncident.set(row.incident_id, [clock]);
  }
  return byIncident;
}

/** Breaches ever recorded, by target and severity; drills are exercises and never count. */
export function slaBreachCounts(db: Kysely<Database>): Promise<{ target: string; severity: string; n: number }[]> {
  return db
    .selectFrom('incident_sla_clocks as c')
    .innerJoin('incidents as i', 'i.id', 'c.incident_id')
    .select(['c.target', 'c.severity', (eb) => eb.fn.countAll<number>().as('n')])
    .where('c.breached_at', 'is not', null)
    .where('i.drill', '=', false)
    .groupBy(['c.target', 'c.severity'])
    .execute() as Promise<{ target: string; severity: string; n: number }[]>;
}
