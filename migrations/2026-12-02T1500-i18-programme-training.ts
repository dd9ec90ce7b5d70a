import { type Kysely, sql } from 'kysely';

// The awareness programme: a campaign per training, and one assignment per person who must take it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('training_campaigns')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('course_id', 'text', (c) => c.notNull())
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('audience', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'closed')`))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('training_campaigns_course').on('training_campaigns').column('course_id').execute();
  await db.schema
    .createTable('training_assignments')
    .addColumn('campaign_id', 'uuid', (c) => c.notNull().references('training_campaigns.id'))
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('manager', 'text')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('completion_source', 'text', (c) => c.check(sql`completion_source in ('api', 'csv', 'lms')`))
    .addColumn('recorded_by', 'text')
    .addColumn('reminders', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('escalated_at', 'timestamptz')
    .addColumn('escalated_to', 'text')
    .addPrimaryKeyConstraint('training_assignments_pk', ['campaign_id', 'principal_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('training_assignments').execute();
  await db.schema.dropTable('training_campaigns').execute();
}
