import { sql, type Kysely } from 'kysely';

// Audited writes put their events here, unhashed, inside their own transactions and without a lock;
// a linker hashes them onto the chain in audit_events and deletes them (issue 21). Like audit_events,
// the table refuses what would forge or drop an event unnoticed: no update, no truncate, and no
// delete of an event the chain does not hold yet.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_pending')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('details', 'jsonb', (c) => c.notNull())
    .execute();
  await sql`
    create function audit_pending_unchanged() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_pending holds events until they are linked: % refused', tg_op;
    end $$`.execute(db);
  await sql`create trigger audit_pending_no_update before update on audit_pending
    for each row execute function audit_pending_unchanged()`.execute(db);
  await sql`create trigger audit_pending_no_truncate before truncate on audit_pending
    for each statement execute function audit_pending_unchanged()`.execute(db);
  // The newest match first: the linker deletes an event in the transaction that just appended it.
  await sql`
    create function audit_pending_linked_only() returns trigger language plpgsql as $$
    begin
      perform 1 from audit_events e
        where e.subject_type = old.subject_type and e.subject_id = old.subject_id
          and e.occurred_at = old.occurred_at and e.actor = old.actor and e.action = old.action
          and e.details = old.details
        order by e.id desc limit 1;
      if not found then
        raise exception 'audit_pending event % is not in audit_events yet: delete refused', old.id;
      end if;
      return old;
    end $$`.execute(db);
  await sql`create trigger audit_pending_delete_linked_only before delete on audit_pending
    for each row execute function audit_pending_linked_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_pending').execute();
  await sql`drop function audit_pending_unchanged`.execute(db);
  await sql`drop function audit_pending_linked_only`.execute(db);
}
