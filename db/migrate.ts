import { Migrator, type Kysely } from 'kysely';
import { migrations } from '../migrations/index';
import { shippedPlaybooks } from '../playbooks/index';
import type { Database } from './database';
import { ensureShippedPlaybooks } from './playbooks';

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error || failed) {
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).map((result) => result.migrationName);
}

/** Migrates, then loads the reference data Warden ships (the default playbooks). Idempotent. */
export async function prepareDatabase(db: Kysely<Database>): Promise<string[]> {
  const applied = await migrateToLatest(db);
  await ensureShippedPlaybooks(db, shippedPlaybooks());
  return applied;
}
