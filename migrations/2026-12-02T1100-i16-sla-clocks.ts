import { sql, type Kysely } from 'kysely';

// An incident's SLA clocks: one row per target (acknowledge, triage, resolve), due in the support
// hours of the affected services, met or breached once. The incident keeps the earliest open due
// time and whether any target was breached, so lists filter and sort by SLA without a join.
// A false positive closes at triage with its reason on the incident. A containment action no
// responder carried out is confirmed by a person, with evidence.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('incident_sla_clocks')
    .addColumn('incident_id', 'uuid', (c) => c.notNull().references('incidents.id'))
    .addColumn('target', 'text', (c) => c.notNull().check(sql`target in ('acknowledge', 'triage', 'resolve')`))
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('duration', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('met_at', 'timestamptz')
    .addColumn('met_by', 'text')
    .addColumn('breached_at', 'timestamptz')
    .addColumn('responsible', 'text')
    .addPrimaryKeyConstraint('incident_sla_clocks_pkey', ['incident_id', 'target'])
    .execute();
  await db.schema
    .createIndex('incident_sla_clocks_breached')
    .on('incident_sla_clocks')
    .columns(['target', 'severity'])
    .where(sql.ref('breached_at'), 'is not', null)
    .execute();
  await db.schema
    .alterTable('incidents')
    .addColumn('sla_next_due_at', 'timestamptz')
    .addColumn('sla_breached', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('false_positive_reason', 'text')
    .execute();
  await db.schema
    .alterTable('incident_actions')
    .addColumn('confirmed_by', 'text')
    .addColumn('confirmed_at', 'timestamptz')
    .addColumn('evidence', 'jsonb')
    .execute();
  await db.schema.createIndex('incidents_sla_due').on('incidents').columns(['sla_next_due_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('incidents_sla_due').execute();
  await db.schema.alterTable('incident_actions').dropColumn('confirmed_by').dropColumn('confirmed_at').dropColumn('evidence').execute();
  await db.schema
    .alterTable('incidents')
    .dropColumn('sla_next_due_at')
    .dropColumn('sla_breached')
    .dropColumn('false_positive_reason')
    .execute();
  await db.schema.dropTable('incident_sla_clocks').execute();
}
