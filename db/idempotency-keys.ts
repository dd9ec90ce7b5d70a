import type { Kysely } from 'kysely';
import { json } from './create-db';
import type { Database } from './database';

export interface IdempotencyKeyName {
  scope: string;
  principalId: string;
  key: string;
}

export interface StoredIdempotencyKey {
  resource_id: string;
  request: unknown;
  fingerprint: string | null;
}

/** The resource and request a key was first used for, if it was. */
export function findIdempotencyKey(db: Kysely<Database>, name: IdempotencyKeyName): Promise<StoredIdempotencyKey | undefined> {
  return db
    .selectFrom('idempotency_keys')
    .select(['resource_id', 'request', 'fingerprint'])
    .where('scope', '=', name.scope)
    .where('principal_id', '=', name.principalId)
    .where('key', '=', name.key)
    .executeTakeFirst();
}

/**
 * Stores what a key names unless another request stored it first: true when this one won. A
 * concurrent loser waits for the winner's commit, so the winner's row is readable once this returns.
 */
export async function claimIdempotencyKey(
  db: Kysely<Database>,
  claim: IdempotencyKeyName & { resourceId: string; request: unknown; fingerprint: string | null },
): Promise<boolean> {
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({
      scope: claim.scope,
      principal_id: claim.principalId,
      key: claim.key,
      resource_id: claim.resourceId,
      request: json(claim.request),
      fingerprint: claim.fingerprint,
    })
    .onConflict((oc) => oc.columns(['scope', 'principal_id', 'key']).doNothing())
    .returning('resource_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Replaces what a key stores once its work has an answer (a decision's result), so a retry with the
 * key answers from it. Safe to repeat: it writes the same request again.
 */
export async function completeIdempotencyKey(db: Kysely<Database>, name: IdempotencyKeyName, request: unknown): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ request: json(request) })
    .where('scope', '=', name.scope)
    .where('principal_id', '=', name.principalId)
    .where('key', '=', name.key)
    .execute();
}
