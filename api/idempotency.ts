import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../db/audit';
import { json } from '../db/create-db';
import type { Database } from '../db/database';
import { conflict } from './problem';

/** Scopes in use, so two resources never share one by accident. */
export const idempotencyScopes = { change: 'change' } as const;

export interface IdempotencyKey {
  /** What kind of resource the key creates (`change`, `incident`): keys are unique per scope. */
  scope: string;
  /** Keys are the caller's: two principals may use the same key for different requests. */
  principalId: string;
  /** The `Idempotency-Key` header; without one, every request is new. */
  key: string | undefined;
  /** The client's request as sent, so a key reused for a different request is refused. */
  body: unknown;
}

export interface Prepared<R> {
  resourceId: string;
  /** Everything needed to start the work, stored with the key (a workflow's input). */
  request: R;
}

export interface Idempotent<R> extends Prepared<R> {
  /** True when an earlier request with the same key won; `request` is then the winner's. */
  replayed: boolean;
}

/**
 * The same key from the same principal never creates twice, even when requests race: every racer
 * prepares, one insert wins, and the others read the winner's resource id and request back.
 * Callers then start the work from the returned request with `startOnce`, so a duplicate (or a
 * retry after the winner crashed before starting) repeats the same start and gets the same answer.
 */
export async function withIdempotency<R>(
  db: Kysely<Database>,
  { scope, principalId, key, body }: IdempotencyKey,
  prepare: () => Promise<Prepared<R>> | Prepared<R>,
): Promise<Idempotent<R>> {
  if (!key) return { ...(await prepare()), replayed: false };
  const fingerprint = createHash('sha256').update(canonicalJson(body)).digest('hex');
  const find = () =>
    db
      .selectFrom('idempotency_keys')
      .select(['resource_id', 'request', 'fingerprint'])
      .where('scope', '=', scope)
      .where('principal_id', '=', principalId)
      .where('key', '=', key)
      .executeTakeFirst();
  const replay = (row: { resource_id: string; request: unknown; fingerprint: string | null }): Idempotent<R> => {
    if (row.fingerprint !== null && row.fingerprint !== fingerprint) {
      throw conflict(`Idempotency-Key ${JSON.stringify(key)} was already used for a different request`);
    }
    return { resourceId: row.resource_id, request: row.request as R, replayed: true };
  };

  const earlier = await find();
  if (earlier) return replay(earlier);
  const prepared = await prepare();
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({ scope, principal_id: principalId, key, resource_id: prepared.resourceId, request: json(prepared.request), fingerprint })
    .onConflict((oc) => oc.columns(['scope', 'principal_id', 'key']).doNothing())
    .returning('resource_id')
    .executeTakeFirst();
  if (inserted) return { ...prepared, replayed: false };
  // The insert waited for the winner's commit, so its row is visible now.
  const winner = await find();
  if (!winner) throw new Error(`idempotency key ${scope}/${principalId}/${key} conflicted but cannot be read`);
  return replay(winner);
}
