import { type Kysely, sql } from 'kysely';

/**
 * Web sessions opened through the organisation's identity provider (OpenID Connect) belong to no
 * API token: their roles come from the provider's claims at sign-in and are kept on the session.
 * A token session keeps `token_id` (revoking the token ends it) and leaves `roles` null.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('web_sessions')
    .alterColumn('token_id', (c) => c.dropNotNull())
    .execute();
  await db.schema.alterTable('web_sessions').addColumn('roles', sql`text[]`).execute();
  await db.schema.alterTable('web_sessions').addColumn('identity_provider', 'text').execute();
  await db.schema
    .alterTable('web_sessions')
    .addCheckConstraint('web_sessions_token_or_identity', sql`(token_id is null) <> (identity_provider is null)`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('web_sessions').dropConstraint('web_sessions_token_or_identity').execute();
  await db.schema.alterTable('web_sessions').dropColumn('identity_provider').execute();
  await db.schema.alterTable('web_sessions').dropColumn('roles').execute();
  await db.schema
    .alterTable('web_sessions')
    .alterColumn('token_id', (c) => c.setNotNull())
    .execute();
}
