import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('controls')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('technical', 'organisational')`))
    .addColumn('process', 'text', (c) => c.notNull().check(sql`process in ('availability', 'continuity', 'security')`))
    .addColumn('ci_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('iso27001', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('mitre_attack', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('baseline_measures', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('sla_requirements', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('incident_category', 'text', (c) => c.notNull())
    .addColumn('procedure', 'jsonb', (c) => c.notNull())
    // A mirror of the Temporal Schedule's spec, for listing and the overdue rule; Temporal runs it.
    .addColumn('schedule', 'jsonb')
    .addColumn('cadence_ms', 'bigint')
    .addColumn('scheduled_since', 'timestamptz')
    .addColumn('schedule_paused', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'retired')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // Retired controls keep their name (their reports still point at them); a new one may reuse it.
  await sql`create unique index controls_active_name on controls (lower(name)) where status = 'active'`.execute(db);

  await db.schema
    .createTable('test_runs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('control_id', 'uuid', (c) => c.notNull().references('controls.id'))
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('method', 'text', (c) => c.notNull().check(sql`method in ('automated', 'manual')`))
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('scheduled_at', 'timestamptz', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('running', 'finished')`))
    .addColumn('result', 'text', (c) => c.check(sql`result in ('passed', 'failed', 'error', 'missed')`))
    .addColumn('tested_by', 'text')
    .addColumn('summary', 'text')
    .addColumn('notes', 'text')
    .addColumn('evidence', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('task_id', 'uuid')
    .addColumn('incident_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('test_runs_control').on('test_runs').columns(['control_id', 'started_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('test_runs').execute();
  await db.schema.dropTable('controls').execute();
}
