import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // A hash of the request a key was first used for: the same key with another body is refused.
  await db.schema.alterTable('idempotency_keys').addColumn('fingerprint', 'text').execute();

  await db.schema
    .createTable('changes')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('affected_cis', sql`uuid[]`, (c) => c.notNull())
    .addColumn('security_impact', 'jsonb', (c) => c.notNull())
    .addColumn('planned_start', 'timestamptz', (c) => c.notNull())
    .addColumn('planned_end', 'timestamptz', (c) => c.notNull())
    .addColumn('rollback_plan', 'text', (c) => c.notNull())
    .addColumn('evidence', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('problem_id', 'text')
    .addColumn('known_error_id', 'text')
    .addColumn('requester', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('api', 'servicenow', 'jira')`))
    .addColumn('external_ref', 'jsonb')
    .addColumn('callback_url', 'text')
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`status in ('submitted', 'in_review', 'changes_requested', 'approved', 'rejected', 'verifying', 'verified', 'implemented', 'baseline_failed', 'not_implemented')`,
        ),
    )
    .addColumn('risk', 'text', (c) => c.notNull().check(sql`risk in ('none', 'low', 'medium', 'high')`))
    .addColumn('assessment', 'jsonb', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('verification', 'jsonb')
    .addColumn('incident_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('changes_list').on('changes').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('changes_status').on('changes').columns(['status', 'created_at']).execute();
  await db.schema.createIndex('changes_affected_cis').on('changes').using('gin').column('affected_cis').execute();

  // One row per gate decision; the key is the workflow's own (`review:<taskId>`, `auto:<revision>`),
  // so a retried activity records it once.
  await db.schema
    .createTable('change_decisions')
    .addColumn('change_id', 'uuid', (c) => c.notNull().references('changes.id'))
    .addColumn('decision_key', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('decided_by', sql`text[]`, (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('task_id', 'uuid')
    .addColumn('decided_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('change_decisions_pk', ['change_id', 'decision_key'])
    .execute();

  // Every callback to an ITSM tool, with its attempts: what was sent, and what came back.
  await db.schema
    .createTable('change_callback_deliveries')
    .addColumn('change_id', 'uuid', (c) => c.notNull().references('changes.id'))
    .addColumn('event_key', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'delivered', 'failed')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .addPrimaryKeyConstraint('change_callback_deliveries_pk', ['change_id', 'event_key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('change_callback_deliveries').execute();
  await db.schema.dropTable('change_decisions').execute();
  await db.schema.dropTable('changes').execute();
  await db.schema.alterTable('idempotency_keys').dropColumn('fingerprint').execute();
}
