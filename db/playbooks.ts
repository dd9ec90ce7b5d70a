import { systemActor } from '../domain/roles';
import { sql, type Kysely, type Selectable } from 'kysely';
import { boundedPlaybook, type Playbook } from '../domain/playbook';
import { appendAudit, auditedTransaction } from './audit';
import { json } from './create-db';
import type { Database, PlaybooksTable } from './database';

/** Version 1 of each category is the shipped playbook, inserted once; published versions follow. */
export async function ensureShippedPlaybooks(db: Kysely<Database>, shipped: Playbook[]): Promise<void> {
  await db
    .insertInto('playbooks')
    .values(shipped.map((p) => ({ category: p.category, version: 1, definition: json(p), published_by: systemActor.principalId })))
    .onConflict((oc) => oc.columns(['category', 'version']).doNothing())
    .execute();
}

/** A stored playbook as incidents follow it and the API shows it (`boundedPlaybook`). */
const asFollowed = (row: Selectable<PlaybooksTable>) => ({ ...row, definition: boundedPlaybook(row.definition) });

export async function latestPlaybooks(db: Kysely<Database>) {
  const rows = await db.selectFrom('playbooks').selectAll().distinctOn('category').orderBy('category').orderBy('version', 'desc').execute();
  return rows.map(asFollowed);
}

/** A category's playbook, the latest or the version given. */
export async function findPlaybook(db: Kysely<Database>, category: string, version?: number) {
  let query = db.selectFrom('playbooks').selectAll().where('category', '=', category);
  query = version === undefined ? query.orderBy('version', 'desc').limit(1) : query.where('version', '=', version);
  const row = await query.executeTakeFirst();
  return row && asFollowed(row);
}

/** Publishes the next version; running incidents keep the version they started with. */
export async function publishPlaybook(db: Kysely<Database>, playbook: Omit<Playbook, 'version'>, publishedBy: string): Promise<Playbook> {
  return auditedTransaction(db, async (trx) => {
    // Two publishers of one category queue here, so each gets the next version number.
    await sql`select pg_advisory_xact_lock(hashtext(${`playbook:${playbook.category}`}))`.execute(trx);
    const latest = await trx
      .selectFrom('playbooks')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('category', '=', playbook.category)
      .executeTakeFirst();
    const published: Playbook = { ...playbook, version: (latest?.version ?? 0) + 1 };
    await trx
      .insertInto('playbooks')
      .values({ category: published.category, version: published.version, definition: json(published), published_by: publishedBy })
      .execute();
    await appendAudit(trx, {
      actor: publishedBy,
      action: 'playbook.published',
      subjectType: 'playbook',
      subjectId: published.category,
      details: { version: published.version, steps: published.steps.map((s) => `${s.type}:${s.id}`) },
    });
    return published;
  });
}
