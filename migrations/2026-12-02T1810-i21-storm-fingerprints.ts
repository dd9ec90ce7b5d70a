import type { Kysely } from 'kysely';

// An incident that closes as not a security incident keeps its alert fingerprint for the
// correlation window, stamped with when it closed: the rest of the storm that opened it attaches to
// it as suppressed duplicates instead of opening an incident per alert (db/alerts.ts, correlateAlert).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('open_alert_fingerprints').addColumn('closed_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('open_alert_fingerprints').where('closed_at', 'is not', null).execute();
  await db.schema.alterTable('open_alert_fingerprints').dropColumn('closed_at').execute();
}
