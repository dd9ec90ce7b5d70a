import { sql, type Kysely } from 'kysely';

// Audited writes put their events here, unhashed, inside their own transactions and without a lock;
// audit_link hashes them onto the chain in audit_events and deletes them (issue 21). Like audit_events,
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
    // The event's canonical JSON (db/audit-hash.ts) before and after its prev_hash, written in Node:
    // the link hashes head || prev_hash || tail, so SQL never has to reproduce canonicalJson.
    .addColumn('hash_head', 'text', (c) => c.notNull())
    .addColumn('hash_tail', 'text', (c) => c.notNull())
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
  // One link in one round trip and one commit: under the chain's advisory lock (held to the end of the
  // caller's transaction), the oldest pending events are hashed onto the head in id order, inserted
  // into audit_events in that order and deleted here. Each statement of a plpgsql function reads a
  // fresh snapshot, so the head read after the lock is the one the previous holder committed.
  await sql`
    create function audit_link(batch_size integer) returns integer language plpgsql as $$
    declare
      linking bigint[];
      misordered bigint;
    begin
      perform pg_advisory_xact_lock(1463898692); -- 0x57415244, "WARD"
      select array_agg(id order by id) into linking
        from (select id from audit_pending order by id limit batch_size) oldest;
      if linking is null then
        return 0;
      end if;
      with recursive numbered as (
          select row_number() over (order by p.id) as n, p.*
          from audit_pending p where p.id = any(linking)
        ), chain(n, hash) as (
          select 0::bigint, coalesce((select hash from audit_events order by id desc limit 1), repeat('0', 64))
          union all
          select numbered.n, encode(sha256(convert_to(numbered.hash_head || chain.hash || numbered.hash_tail, 'UTF8')), 'hex')
          from chain join numbered on numbered.n = chain.n + 1
        ), linked as (
          insert into audit_events (occurred_at, actor, action, subject_type, subject_id, details, prev_hash, hash)
            select numbered.occurred_at, numbered.actor, numbered.action, numbered.subject_type, numbered.subject_id,
                   numbered.details, previous.hash, chain.hash
            from numbered
              join chain on chain.n = numbered.n
              join chain previous on previous.n = numbered.n - 1
            order by numbered.n
            returning id, prev_hash, hash
        )
      -- Readers page through the chain by id: an event numbered before the one it links to would break
      -- every later link for them. PostgreSQL numbers the rows in the order given; this makes it a check.
      select count(*) into misordered from linked earlier join linked later on later.prev_hash = earlier.hash
        where later.id < earlier.id;
      if misordered > 0 then
        raise exception 'audit_link: events were numbered out of chain order; nothing was linked';
      end if;
      delete from audit_pending where id = any(linking);
      return cardinality(linking);
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function audit_link`.execute(db);
  await db.schema.dropTable('audit_pending').execute();
  await sql`drop function audit_pending_unchanged`.execute(db);
  await sql`drop function audit_pending_linked_only`.execute(db);
}
