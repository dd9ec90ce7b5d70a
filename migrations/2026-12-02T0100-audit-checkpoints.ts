import { sql, type Kysely } from 'kysely';

// Signed anchors of the audit hash chain. The signing key is not in the database: a database owner
// who rewrites events and recomputes their hashes cannot make a checkpoint's signature match.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    // One checkpoint per chain head: two signers of the same head write one row.
    .addColumn('event_id', 'bigint', (c) => c.notNull().unique())
    .addColumn('event_hash', 'text', (c) => c.notNull())
    .addColumn('prev_event_id', 'bigint', (c) => c.notNull())
    .addColumn('signed_at', sql`timestamptz(3)`, (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .execute();
  await sql`
    create function audit_checkpoints_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_checkpoints is append-only: % refused', tg_op;
    end $$`.execute(db);
  await sql`create trigger audit_checkpoints_no_update_delete before update or delete on audit_checkpoints
    for each row execute function audit_checkpoints_append_only()`.execute(db);
  await sql`create trigger audit_checkpoints_no_truncate before truncate on audit_checkpoints
    for each statement execute function audit_checkpoints_append_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_checkpoints').execute();
  await sql`drop function audit_checkpoints_append_only`.execute(db);
}
