import type { Kysely } from 'kysely';
import { builtInAttackCatalogue, type AttackTechnique } from '../domain/attack';
import { auditedWrite } from './audit';
import type { Database } from './database';

/**
 * The catalogue techniques are validated against: the organisation's imported bundle, or the small
 * built-in one while none is imported.
 */
export async function attackCatalogueSource(
  db: Kysely<Database>,
): Promise<{ source: 'imported' | 'built-in'; bundleId: string | null; count: number }> {
  const row = await db
    .selectFrom('attack_techniques')
    .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.max('bundle_id').as('bundle')])
    .executeTakeFirstOrThrow();
  const count = Number(row.n);
  return count > 0
    ? { source: 'imported', bundleId: row.bundle, count }
    : { source: 'built-in', bundleId: null, count: builtInAttackCatalogue.length };
}

/** Splits technique ids into the catalogue's techniques and the ids it does not know. */
export async function knownTechniques(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<{ known: AttackTechnique[]; unknown: string[] }> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return { known: [], unknown: [] };
  const { source } = await attackCatalogueSource(db);
  const known =
    source === 'imported'
      ? await db.selectFrom('attack_techniques').select(['id', 'name', 'tactics']).where('id', 'in', wanted).execute()
      : builtInAttackCatalogue.filter((technique) => wanted.includes(technique.id));
  const knownIds = new Set(known.map((technique) => technique.id));
  // In the order given: the first technique an alert names decides the inferred category first.
  return {
    known: wanted.flatMap((id) => known.filter((technique) => technique.id === id)),
    unknown: wanted.filter((id) => !knownIds.has(id)),
  };
}

/** Replaces the catalogue with an imported bundle's techniques, in one audited transaction. */
export async function replaceAttackCatalogue(
  db: Kysely<Database>,
  input: { bundleId: string; techniques: AttackTechnique[]; actor: string },
): Promise<void> {
  await auditedWrite(db, async (trx) => {
    await trx.deleteFrom('attack_techniques').execute();
    // Batches keep each statement under PostgreSQL's 65,535 parameters (enterprise ATT&CK has ~800 techniques).
    for (let i = 0; i < input.techniques.length; i += 1000) {
      await trx
        .insertInto('attack_techniques')
        .values(input.techniques.slice(i, i + 1000).map((t) => ({ id: t.id, name: t.name, tactics: t.tactics, bundle_id: input.bundleId })))
        .execute();
    }
    return {
      actor: input.actor,
      action: 'attack_catalogue.imported',
      subjectType: 'attack-catalogue',
      subjectId: input.bundleId,
      details: { techniques: input.techniques.length },
    };
  });
}
