import { type Kysely, sql } from 'kysely';
import { json, prepared } from './create-db';
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

export type IdempotencyClaim = { claimed: true } | { claimed: false; stored: StoredIdempotencyKey };

/**
 * Claims a key or finds what holds it, in one round trip, for a request that claims before it
 * validates (and gives the key back with `releaseIdempotencyKey` when it is refused). A claim
 * racing another's uncommitted one waits for its commit; that row is newer than the statement's
 * snapshot, so it is read again after.
 */
export async function claimOrFindIdempotencyKey(
  db: Kysely<Database>,
  claim: IdempotencyKeyName & { resourceId: string; request: unknown; fingerprint: string | null },
): Promise<IdempotencyClaim> {
  const { rows } = await prepared(
    sql<{ claimed: boolean; stored: StoredIdempotencyKey | null }>`
    with claimed as (
      insert into idempotency_keys (scope, principal_id, key, resource_id, request, fingerprint)
      values (${claim.scope}, ${claim.principalId}, ${claim.key}, ${claim.resourceId}, ${json(claim.request)}, ${claim.fingerprint})
      on conflict (scope, principal_id, key) do nothing
      returning 1)
    select exists (select from claimed) as claimed,
           (select json_build_object('resource_id', resource_id, 'request', request, 'fingerprint', fingerprint)
              from idempotency_keys
             where scope = ${claim.scope} and principal_id = ${claim.principalId} and key = ${claim.key}) as stored`,
  ).execute(db);
  const row = rows[0];
  if (row?.claimed) return { claimed: true };
  const stored = row?.stored ?? (await findIdempotencyKey(db, claim));
  if (!stored) throw new Error(`idempotency key ${claim.scope}/${claim.principalId}/${claim.key} conflicted but cannot be read`);
  return { claimed: false, stored };
}

/** Gives back a key whose request was refused before it did anything, so the key may be used for a corrected one. */
export async function releaseIdempotencyKey(db: Kysely<Database>, name: IdempotencyKeyName): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('scope', '=', name.scope)
    .where('principal_id', '=', name.principalId)
    .where('key', '=', name.key)
    .execute();
}
