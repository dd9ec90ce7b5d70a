import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('risks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('threat', 'text', (c) => c.notNull())
    .addColumn('affected_cis', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('affected_services', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('likelihood', 'integer', (c) => c.notNull().check(sql`likelihood between 1 and 5`))
    .addColumn('impact', 'integer', (c) => c.notNull().check(sql`impact between 1 and 5`))
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('treatment', 'text', (c) => c.notNull().check(sql`treatment in ('mitigate', 'accept', 'transfer', 'avoid')`))
    .addColumn('controls', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('accepted_until', 'timestamptz')
    .addColumn('review_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    // An accepted risk is an exception and must expire; a mitigated one names what mitigates it.
    .addCheckConstraint('risks_accept_expires', sql`treatment <> 'accept' or accepted_until is not null`)
    .addCheckConstraint('risks_mitigate_names_controls', sql`treatment <> 'mitigate' or cardinality(controls) > 0`)
    .execute();
  await db.schema.createIndex('risks_page').on('risks').columns(['created_at', 'id']).execute();

  await db.schema
    .createTable('policies')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active').check(sql`status in ('active', 'retired')`))
    .addColumn('current_version', 'integer')
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('policies_page').on('policies').columns(['created_at', 'id']).execute();

  await db.schema
    .createTable('policy_versions')
    .addColumn('policy_id', 'uuid', (c) => c.notNull().references('policies.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('body', 'text')
    .addColumn('document_url', 'text')
    .addColumn('next_review_at', 'timestamptz', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending_approval', 'approved', 'rejected')`))
    .addColumn('proposed_by', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('comment', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('policy_versions_pk', ['policy_id', 'version'])
    .addCheckConstraint('policy_versions_content', sql`body is not null or document_url is not null`)
    .execute();

  await db.schema
    .createTable('security_reviews')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('period_from', 'timestamptz', (c) => c.notNull())
    .addColumn('period_to', 'timestamptz', (c) => c.notNull())
    .addColumn('scope', sql`uuid[]`)
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('measuring', 'owner_review', 'planning', 'sign_off', 'signed_off')`),
    )
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('measures', 'jsonb')
    .addColumn('history', 'jsonb')
    .addColumn('owner_reviews', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('revisions', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('sign_off', 'jsonb')
    .addColumn('report', 'jsonb')
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Actions a review raises carry the deviation they answer, so a retried plan inserts each once;
  // milliseconds for the (created_at, id) list cursor.
  await db.schema.alterTable('improvement_actions').addColumn('deviation_key', 'text').addColumn('service_id', 'uuid').execute();
  await sql`alter table improvement_actions alter column created_at type timestamptz(3), alter column updated_at type timestamptz(3)`.execute(
    db,
  );
  await db.schema
    .createIndex('improvement_actions_deviation')
    .on('improvement_actions')
    .columns(['source_type', 'source_id', 'deviation_key'])
    .unique()
    .where(sql.ref('deviation_key'), 'is not', null)
    .execute();
  await db.schema.createIndex('improvement_actions_page').on('improvement_actions').columns(['created_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('improvement_actions_page').execute();
  await db.schema.dropIndex('improvement_actions_deviation').execute();
  await sql`alter table improvement_actions alter column created_at type timestamptz, alter column updated_at type timestamptz`.execute(db);
  await db.schema.alterTable('improvement_actions').dropColumn('deviation_key').dropColumn('service_id').execute();
  for (const table of ['security_reviews', 'policy_versions', 'policies', 'risks']) await db.schema.dropTable(table).execute();
}
