import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The people list (HR's view): the source of truth for who has left.
  await db.schema
    .createTable('people')
    .addColumn('principal_id', 'text', (c) => c.primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'leaver')`))
    .addColumn('manager', 'text')
    .addColumn('imported_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Accounts as the last import of each system listed them; an import replaces the system's list.
  await db.schema
    .createTable('system_accounts')
    .addColumn('ci_id', 'uuid', (c) => c.notNull().references('configuration_items.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('person', 'service', 'shared')`))
    .addColumn('owner', 'text')
    .addColumn('entitlements', 'jsonb', (c) => c.notNull())
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revocation_requested_at', 'timestamptz')
    .addColumn('revocation_not_applied', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('imported_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('system_accounts_pk', ['ci_id', 'account_id'])
    .execute();
  await db.schema.createIndex('system_accounts_owner').on('system_accounts').column('owner').execute();

  await db.schema
    .createTable('access_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('ci_id', 'uuid', (c) => c.notNull().references('configuration_items.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('beneficiary', 'text', (c) => c.notNull())
    .addColumn('requester', 'text', (c) => c.notNull())
    .addColumn('entitlements', 'jsonb', (c) => c.notNull())
    .addColumn('privileged', 'boolean', (c) => c.notNull())
    .addColumn('justification', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('approved_by', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('requested_until', 'timestamptz')
    .addColumn('requested_for', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('decided_at', 'timestamptz')
    .addColumn('provisioned_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('access_requests_account').on('access_requests').columns(['ci_id', 'account_id']).execute();

  // Every grant, revocation and reduction Warden asked a system for, by webhook or by hand.
  await db.schema
    .createTable('provisioning_actions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ci_id', 'uuid', (c) => c.notNull().references('configuration_items.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('operation', 'text', (c) => c.notNull().check(sql`operation in ('grant', 'revoke', 'reduce')`))
    .addColumn('entitlements', 'jsonb', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull().check(sql`method in ('webhook', 'manual')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('executed', 'failed', 'awaiting_manual', 'confirmed')`))
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('approved_by', sql`text[]`, (c) => c.notNull())
    .addColumn('task_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('provisioning_actions_subject').on('provisioning_actions').columns(['subject_type', 'subject_id']).execute();

  await db.schema
    .createTable('access_review_campaigns')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('scope', 'jsonb', (c) => c.notNull())
    .addColumn('ci_ids', sql`uuid[]`, (c) => c.notNull())
    .addColumn('started_by', 'text', (c) => c.notNull())
    .addColumn('unused_after_days', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'completed', 'unanswered')`))
    .addColumn('deadline_at', 'timestamptz', (c) => c.notNull())
    .addColumn('completed_at', 'timestamptz')
    .addColumn('completed_on_time', 'boolean')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('access_review_campaigns_deadline').on('access_review_campaigns').column('deadline_at').execute();

  await db.schema
    .createTable('access_review_items')
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('access_review_campaigns.id'))
    .addColumn('ci_id', 'uuid', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('reviewer', 'text', (c) => c.notNull())
    .addColumn('account_owner', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('employment_status', 'text', (c) => c.notNull())
    .addColumn('entitlements', 'jsonb', (c) => c.notNull())
    .addColumn('flags', sql`text[]`, (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.check(sql`decision in ('keep', 'revoke', 'reduce')`))
    .addColumn('kept_entitlements', 'jsonb')
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'timestamptz')
    .addPrimaryKeyConstraint('access_review_items_pk', ['campaign_id', 'ci_id', 'account_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'access_review_items',
    'access_review_campaigns',
    'provisioning_actions',
    'access_requests',
    'system_accounts',
    'people',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
