import { type Kysely, sql } from 'kysely';

// Components come from SBOMs with their package identity (purl, CPE); scanners report findings per CI
// that the next import of the same scanner verifies as fixed; OSV withdrawals close remediations as
// not applicable.
export async function up(db: Kysely<any>): Promise<void> {
  // An SBOM may list one product in several versions (a shaded copy beside the direct one), so the
  // one-version-per-product rule holds only for hand-entered lists, where the API checks it.
  await sql`drop index ci_components_product`.execute(db);
  await sql`create index ci_components_product on ci_components (ci_id, lower(product))`.execute(db);
  await db.schema
    .alterTable('ci_components')
    .addColumn('purl', 'text')
    .addColumn('cpe', 'text')
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('manual').check(sql`source in ('manual', 'sbom')`))
    .execute();

  await db.schema.alterTable('advisories').addColumn('withdrawn_at', 'timestamptz').execute();
  // The remediated component's identity, so a reported patch is checked against the same package.
  await db.schema.alterTable('advisory_remediations').addColumn('purl', 'text').addColumn('cpe', 'text').execute();
  await sql`alter table advisories drop constraint advisories_status_check, add constraint advisories_status_check check (status in ('open', 'closed', 'failed', 'withdrawn'))`.execute(
    db,
  );
  await sql`alter table advisory_remediations drop constraint advisory_remediations_status_check, add constraint advisory_remediations_status_check check (status in ('open', 'patched', 'mitigated', 'exception_requested', 'exception', 'not_applicable'))`.execute(
    db,
  );

  // One row per scanner result file imported for a CI: the evidence a finding was closed by.
  await db.schema
    .createTable('scan_imports')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('ci_id', 'uuid', (c) => c.notNull().references('configuration_items.id'))
    .addColumn('scanner', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('imported_by', 'text', (c) => c.notNull())
    .addColumn('findings', 'integer', (c) => c.notNull())
    .addColumn('opened', 'integer', (c) => c.notNull())
    .addColumn('reopened', 'integer', (c) => c.notNull())
    .addColumn('closed', 'integer', (c) => c.notNull())
    .addColumn('imported_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('scan_imports_by_ci').on('scan_imports').columns(['ci_id', 'scanner', 'imported_at']).execute();

  // A finding is one vulnerability in one package (or one code-scanning rule at one place) of one CI,
  // as one scanner sees it: the key the next import of that scanner is compared on.
  await db.schema
    .createTable('vulnerability_findings')
    .addColumn('ci_id', 'uuid', (c) => c.notNull().references('configuration_items.id'))
    .addColumn('scanner', 'text', (c) => c.notNull())
    .addColumn('finding_key', 'text', (c) => c.notNull())
    .addColumn('vulnerability_id', 'text', (c) => c.notNull())
    .addColumn('component', 'text', (c) => c.notNull())
    .addColumn('purl', 'text')
    .addColumn('installed_version', 'text')
    .addColumn('fixed_versions', sql`text[]`, (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('title', 'text')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'fixed')`))
    .addColumn('first_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('fixed_at', 'timestamptz')
    .addColumn('reopened', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_import_id', 'uuid', (c) => c.notNull().references('scan_imports.id'))
    .addColumn('fixed_by_import_id', 'uuid', (c) => c.references('scan_imports.id'))
    .addPrimaryKeyConstraint('vulnerability_findings_pk', ['ci_id', 'scanner', 'finding_key'])
    .execute();
  await db.schema.createIndex('vulnerability_findings_open').on('vulnerability_findings').columns(['ci_id', 'status']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('vulnerability_findings').execute();
  await db.schema.dropTable('scan_imports').execute();
  await sql`alter table advisory_remediations drop constraint advisory_remediations_status_check, add constraint advisory_remediations_status_check check (status in ('open', 'patched', 'mitigated', 'exception_requested', 'exception'))`.execute(
    db,
  );
  await sql`alter table advisories drop constraint advisories_status_check, add constraint advisories_status_check check (status in ('open', 'closed', 'failed'))`.execute(
    db,
  );
  await db.schema.alterTable('advisory_remediations').dropColumn('purl').dropColumn('cpe').execute();
  await db.schema.alterTable('advisories').dropColumn('withdrawn_at').execute();
  await db.schema.alterTable('ci_components').dropColumn('purl').dropColumn('cpe').dropColumn('source').execute();
  await sql`drop index ci_components_product`.execute(db);
  await sql`create unique index ci_components_product on ci_components (ci_id, lower(product))`.execute(db);
}
