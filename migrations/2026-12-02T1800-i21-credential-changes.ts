import { sql, type Kysely } from 'kysely';

// API processes cache who a token or session cookie stands for (http/credential-cache.ts). Any
// change to a token, a session or a principal (a revocation, a sign-out, roles or a name changed,
// by Warden or by hand in psql) notifies `warden_credentials` when it commits, and every listening
// process forgets what it cached. Inserts need no notice: a new credential was never cached. Only
// rows that really changed notify: an update that writes the same values (a sign-in upserting an
// unchanged display name) would otherwise empty every cache. No payload: the listeners forget
// everything, and PostgreSQL folds a transaction's identical notices into one.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function warden_notify_credentials_changed() returns trigger language plpgsql as $$
    begin
      perform pg_notify('warden_credentials', '');
      return null;
    end $$`.execute(db);
  for (const table of ['api_tokens', 'web_sessions', 'principals']) {
    await sql`
      create trigger ${sql.id(`${table}_changed`)}
      after update on ${sql.table(table)}
      for each row when (old.* is distinct from new.*) execute function warden_notify_credentials_changed()`.execute(db);
    await sql`
      create trigger ${sql.id(`${table}_removed`)}
      after delete on ${sql.table(table)}
      for each row execute function warden_notify_credentials_changed()`.execute(db);
    await sql`
      create trigger ${sql.id(`${table}_truncated`)}
      after truncate on ${sql.table(table)}
      for each statement execute function warden_notify_credentials_changed()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['api_tokens', 'web_sessions', 'principals'])
    for (const trigger of ['changed', 'removed', 'truncated'])
      await sql`drop trigger ${sql.id(`${table}_${trigger}`)} on ${sql.table(table)}`.execute(db);
  await sql`drop function warden_notify_credentials_changed()`.execute(db);
}
