import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('human_tasks')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull())
    .addColumn('allowed_roles', sql`text[]`, (c) => c.notNull())
    .addColumn('assignees', sql`text[]`, (c) => c.notNull())
    .addColumn('allowed_outcomes', sql`text[]`, (c) => c.notNull())
    .addColumn('requester', 'text')
    .addColumn('forbid_self_decision', 'boolean', (c) => c.notNull())
    .addColumn('approvals_required', 'integer', (c) => c.notNull())
    .addColumn('approve_outcome', 'text')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'decided', 'expired', 'cancelled')`))
    .addColumn('deadline_at', 'timestamptz')
    .addColumn('escalation_level', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('outcome', 'text')
    .addColumn('decisions', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    // Milliseconds, like the (created_at, id) list cursors that page over it.
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('human_tasks_open').on('human_tasks').columns(['status', 'deadline_at']).execute();
  await db.schema.createIndex('human_tasks_subject').on('human_tasks').columns(['subject_type', 'subject_id']).execute();

  // In-app notifications; channels (e-mail, webhooks) deliver from here. The dedup key makes a
  // retried activity record the same notification once.
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
    .addColumn('recipient_roles', sql`text[]`, (c) => c.notNull())
    .addColumn('recipients', sql`text[]`, (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('task_id', 'uuid')
    .addColumn('suppressed_reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('notifications_subject').on('notifications').columns(['subject_type', 'subject_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notifications').execute();
  await db.schema.dropTable('human_tasks').execute();
}
