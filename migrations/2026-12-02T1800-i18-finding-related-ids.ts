import { sql, type Kysely } from 'kysely';

// A scanner may report a vulnerability under one id and relate others to it (Grype matches a GHSA
// and lists its CVE in relatedVulnerabilities): the finding keeps them, so it ties to an advisory
// known only by the CVE. Findings imported before keep an empty list and tie by their own id, as before.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('vulnerability_findings')
    .addColumn('related_ids', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('vulnerability_findings').dropColumn('related_ids').execute();
}
