import { sql, type Kysely } from 'kysely';

const pagedTables = ['services', 'configuration_items'];

export async function up(db: Kysely<any>): Promise<void> {
  // List cursors carry created_at as a JavaScript Date, which holds milliseconds; at PostgreSQL's
  // default microseconds the last row of a page would compare greater than its own cursor and
  // come back on the next page. updated_at follows, or a new row's now() would read back rounded
  // in one column and truncated in the other, updated before it was created.
  for (const table of pagedTables) {
    await sql`alter table ${sql.table(table)} alter column created_at type timestamptz(3), alter column updated_at type timestamptz(3)`.execute(
      db,
    );
    await db.schema.createIndex(`${table}_page`).on(table).columns(['created_at', 'id']).execute();
    await db.schema.createIndex(`${table}_owner`).on(table).column('owner').execute();
  }

  // A retired CI stays for history; its successor (a rebuilt server) may take its name.
  await db.schema.alterTable('configuration_items').dropConstraint('configuration_items_name_key').execute();
  await db.schema
    .createIndex('configuration_items_active_name')
    .on('configuration_items')
    .column('name')
    .unique()
    .where(sql.ref('status'), '=', 'active')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('configuration_items_active_name').execute();
  await db.schema.alterTable('configuration_items').addUniqueConstraint('configuration_items_name_key', ['name']).execute();
  for (const table of pagedTables) {
    await db.schema.dropIndex(`${table}_owner`).execute();
    await db.schema.dropIndex(`${table}_page`).execute();
    await sql`alter table ${sql.table(table)} alter column created_at type timestamptz, alter column updated_at type timestamptz`.execute(
      db,
    );
  }
}
