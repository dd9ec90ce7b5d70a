import { sql, type Kysely } from 'kysely';

// An SLA clock can end without being met or breached: its incident was merged into another (whose
// own clocks go on) or ended `failed`. `stopped_at` closes it, so it is neither open nor judged.
// Each clock keeps the support hours its due time was counted in, so what a target has left is
// counted in those hours too. Clocks of incidents that were merged or failed before this migration
// are stopped at the incident's close (or now, when it has none). Security incidents registered
// before SLA clocks get the acknowledge and resolve clocks their stored targets imply (24x7, met at
// their acknowledged_at and resolved_at), so the review's SLA figure, which reads the clocks, keeps
// judging them.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('incident_sla_clocks')
    .addColumn('stopped_at', 'timestamptz')
    .addColumn('stop_reason', 'text')
    .addColumn('support_hours', 'jsonb', (c) => c.notNull().defaultTo(sql`'{"kind":"24x7"}'::jsonb`))
    .execute();
  await sql`
    insert into incident_sla_clocks (incident_id, target, severity, duration, started_at, due_at, met_at)
    select i.id, t.target, i.severity, t.duration, i.reported_at, i.reported_at + t.duration::interval, t.met_at
      from incidents i
     cross join lateral (values ('acknowledge', i.acknowledge_target, i.acknowledged_at),
                                ('resolve', i.resolve_target, i.resolved_at)) as t(target, duration, met_at)
     where i.security_incident
       and not exists (select 1 from incident_sla_clocks c where c.incident_id = i.id)`.execute(db);
  await sql`
    update incident_sla_clocks c
       set stopped_at = coalesce(i.closed_at, now()),
           stop_reason = case when i.status = 'closed_duplicate' then 'merged' else 'failed' end
      from incidents i
     where i.id = c.incident_id and i.status in ('closed_duplicate', 'failed') and c.met_at is null`.execute(db);
  await sql`
    update incidents i
       set sla_next_due_at = null
     where i.status in ('closed_duplicate', 'failed')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('incident_sla_clocks')
    .dropColumn('stopped_at')
    .dropColumn('stop_reason')
    .dropColumn('support_hours')
    .execute();
}
