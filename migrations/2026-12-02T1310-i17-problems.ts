import { type Kysely, sql } from 'kysely';

// Problem management (issue #17): the post-incident review's `problems` become full records with
// affected services and CIs, linked incidents and changes, root cause, workaround and solution; each
// proposed workaround or solution is security-checked against a checklist, item by item.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('problems')
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('affected_service_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'::uuid[]`))
    .addColumn('affected_ci_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'::uuid[]`))
    .addColumn('security_risk', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('root_cause', 'text')
    .addColumn('workaround', 'text')
    .addColumn('solution', 'text')
    .addColumn('parent_id', 'uuid', (c) => c.references('problems.id'))
    .addColumn('created_by', 'text', (c) => c.notNull().defaultTo('system:warden'))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`alter table problems add constraint problems_status_check check (status in ('open', 'known_error', 'resolved', 'closed'))`.execute(
    db,
  );
  await db.schema
    .createTable('problem_incidents')
    .addColumn('problem_id', 'uuid', (c) => c.notNull().references('problems.id'))
    .addColumn('incident_id', 'uuid', (c) => c.notNull())
    .addPrimaryKeyConstraint('problem_incidents_pkey', ['problem_id', 'incident_id'])
    .execute();
  await db.schema.createIndex('problem_incidents_incident').on('problem_incidents').column('incident_id').execute();
  // The reviews that raised problems so far linked them by source only.
  await sql`insert into problem_incidents (problem_id, incident_id)
    select id, source_id::uuid from problems where source_type = 'incident' on conflict do nothing`.execute(db);
  await sql`update problems p set affected_ci_ids = i.affected_cis, security_risk = true
    from incidents i where p.source_type = 'incident' and i.id::text = p.source_id`.execute(db);

  await db.schema
    .createTable('problem_proposals')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('problem_id', 'uuid', (c) => c.notNull().references('problems.id'))
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('workaround', 'solution')`))
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('change_id', 'uuid')
    .addColumn('proposed_by', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('in_check', 'accepted', 'rejected', 'failed')`))
    .addColumn('checklist', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('results', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('reasons', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('checked_by', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('decided_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('problem_proposals_problem').on('problem_proposals').column('problem_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('problem_proposals').execute();
  await db.schema.dropTable('problem_incidents').execute();
  await sql`alter table problems drop constraint problems_status_check`.execute(db);
  await db.schema
    .alterTable('problems')
    .dropColumn('description')
    .dropColumn('affected_service_ids')
    .dropColumn('affected_ci_ids')
    .dropColumn('security_risk')
    .dropColumn('root_cause')
    .dropColumn('workaround')
    .dropColumn('solution')
    .dropColumn('parent_id')
    .dropColumn('created_by')
    .dropColumn('updated_at')
    .execute();
}
