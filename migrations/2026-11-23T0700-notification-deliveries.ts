import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Where a principal wants to be told: [{ channel: 'email' | 'webhook' | 'slack', target? }].
  // Empty means "e-mail to principals.email when one is recorded".
  await db.schema
    .alterTable('principals')
    .addColumn('notification_channels', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();

  // One row per notification, channel and target: the unique key is what keeps a retried `notify`
  // activity from sending a message that already went out.
  await db.schema
    .createTable('notification_deliveries')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('notification_id', 'uuid', (c) => c.notNull().references('notifications.id'))
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel in ('email', 'webhook', 'slack')`))
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending', 'sending', 'delivered', 'failed')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('delivered_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('notification_deliveries_once', ['notification_id', 'channel', 'target'])
    .execute();
  await db.schema.createIndex('notification_deliveries_status').on('notification_deliveries').columns(['status', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification_deliveries').execute();
  await db.schema.alterTable('principals').dropColumn('notification_channels').execute();
}
