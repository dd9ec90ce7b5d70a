import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // A browser session of the web inbox. The cookie carries a random secret; only its SHA-256 is
  // stored, like tokens, so a copy of this table signs nobody in.
  await db.schema
    .createTable('web_sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('token_id', 'uuid', (c) => c.notNull().references('api_tokens.id'))
    .addColumn('principal_id', 'text', (c) => c.notNull().references('principals.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('web_sessions_token').on('web_sessions').column('token_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('web_sessions').execute();
}
