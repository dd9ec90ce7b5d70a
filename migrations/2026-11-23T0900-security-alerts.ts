import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Warden's own broadcast alerts (not the SIEM alerts of security_alerts_received).
  await db.schema
    .createTable('security_alerts')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('threat', 'text', (c) => c.notNull())
    .addColumn('actions', sql`text[]`, (c) => c.notNull())
    .addColumn('affected_services', sql`uuid[]`, (c) => c.notNull())
    .addColumn('affected_cis', sql`uuid[]`, (c) => c.notNull())
    .addColumn('audience', sql`text[]`, (c) => c.notNull())
    .addColumn('links', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('raised_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // One acknowledgement per recipient: a principal (`principal:<id>`) or a role (`role:<role>`).
  await db.schema
    .createTable('security_alert_recipients')
    .addColumn('alert_id', 'uuid', (c) => c.notNull().references('security_alerts.id'))
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('task_id', 'uuid')
    .addColumn('acknowledged_by', 'text')
    .addColumn('acknowledged_at', 'timestamptz')
    .addPrimaryKeyConstraint('security_alert_recipients_pk', ['alert_id', 'recipient'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('security_alert_recipients').execute();
  await db.schema.dropTable('security_alerts').execute();
}
