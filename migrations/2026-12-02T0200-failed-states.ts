import { type Kysely, sql } from 'kysely';

// A process that meets a permanent failure (PostgreSQL refusing its data for good) ends visibly:
// its record's status becomes `failed` where the record has a status, and the failure itself is
// kept here for every process, also those whose record has no status or was never written.

const widened = [
  {
    table: 'changes',
    before: `'submitted', 'in_review', 'changes_requested', 'approved', 'rejected', 'verifying', 'verified', 'implemented', 'baseline_failed', 'not_implemented'`,
  },
  { table: 'policy_versions', before: `'pending_approval', 'approved', 'rejected'` },
  { table: 'security_reviews', before: `'measuring', 'owner_review', 'planning', 'sign_off', 'signed_off'` },
  { table: 'advisories', before: `'open', 'closed'` },
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const { table, before } of widened) {
    await sql
      .raw(
        `alter table ${table} drop constraint ${table}_status_check, add constraint ${table}_status_check check (status in (${before}, 'failed'))`,
      )
      .execute(db);
  }
  await db.schema
    .createTable('process_failures')
    .addColumn('workflow_id', 'text', (c) => c.primaryKey())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('process_failures_subject').on('process_failures').columns(['subject_type', 'subject_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('process_failures').execute();
  for (const { table, before } of widened) {
    await sql
      .raw(`alter table ${table} drop constraint ${table}_status_check, add constraint ${table}_status_check check (status in (${before}))`)
      .execute(db);
  }
}
