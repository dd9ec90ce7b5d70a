import { type Kysely, sql } from 'kysely';

// Separation of duties over entitlements (issue #17): conflict rules the Security Manager manages,
// and the exceptions granted to them, each with a reason and an expiry.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sod_rules')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('members', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'retired')`))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('sod_exceptions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('rule_id', 'uuid', (c) => c.notNull().references('sod_rules.id'))
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('request_id', 'uuid', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('granted_by', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'lapsed')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('sod_exceptions_request_rule', ['request_id', 'rule_id'])
    .execute();
  await db.schema.createIndex('sod_exceptions_principal').on('sod_exceptions').column('principal_id').execute();
  // A campaign names the rule behind each sod_conflict flag.
  await db.schema
    .alterTable('access_review_items')
    .addColumn('sod_conflicts', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('access_review_items').dropColumn('sod_conflicts').execute();
  await db.schema.dropTable('sod_exceptions').execute();
  await db.schema.dropTable('sod_rules').execute();
}
