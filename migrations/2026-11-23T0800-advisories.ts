import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // Software on a CI, matched against advisories. One version per product per CI.
  await db.schema
    .createTable('ci_components')
    .addColumn('ci_id', 'uuid', (c) => c.notNull().references('configuration_items.id'))
    .addColumn('product', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index ci_components_product on ci_components (ci_id, lower(product))`.execute(db);
  await sql`create index ci_components_by_product on ci_components (lower(product))`.execute(db);

  await db.schema
    .createTable('advisories')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('supplier', 'text')
    .addColumn('aliases', sql`text[]`, (c) => c.notNull())
    .addColumn('affected', 'jsonb', (c) => c.notNull())
    .addColumn('cvss_score', 'real')
    .addColumn('cvss_vector', 'text')
    .addColumn('preventive_measures', 'text')
    .addColumn('published_at', 'timestamptz')
    .addColumn('exploited', 'boolean', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'closed')`))
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('alert_id', 'uuid')
    .addColumn('raw', 'jsonb', (c) => c.notNull())
    .addColumn('received_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // One remediation per advisory and CI: the natural key a retried activity or a re-match hits.
  await db.schema
    .createTable('advisory_remediations')
    .addColumn('advisory_id', 'text', (c) => c.notNull().references('advisories.id'))
    .addColumn('ci_id', 'uuid', (c) => c.notNull().references('configuration_items.id'))
    .addColumn('service_id', 'uuid')
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('product', 'text', (c) => c.notNull())
    .addColumn('installed_version', 'text', (c) => c.notNull())
    .addColumn('deadline', 'text', (c) => c.notNull())
    .addColumn('due_at', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('open', 'patched', 'mitigated', 'exception_requested', 'exception')`),
    )
    .addColumn('resolution', 'jsonb')
    .addColumn('task_id', 'uuid')
    .addColumn('escalations', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('exception_expires_at', 'timestamptz')
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('advisory_remediations_pk', ['advisory_id', 'ci_id'])
    .execute();
  await db.schema.createIndex('advisory_remediations_due').on('advisory_remediations').columns(['service_id', 'due_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['advisory_remediations', 'advisories', 'ci_components']) await db.schema.dropTable(table).execute();
}
