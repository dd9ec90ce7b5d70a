import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { json } from '../db/create-db';
import type { Database } from '../db/database';
import { invalid } from './problem';

export interface IdempotentWork<T> {
  resourceId: string;
  request: T;
  /** True when an earlier request with the same key created the resource. */
  replayed: boolean;
}

/** The `Idempotency-Key` header, validated; undefined when the client sent none. */
export function idempotencyKey(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
    throw invalid([{ path: 'headers.idempotency-key', message: 'must be 1 to 200 characters' }]);
  }
  return key;
}

/**
 * The same key from the same principal names one resource forever. The first request stores what it
 * will start; concurrent or later duplicates get that stored request back and start the same thing
 * (a no-op once it runs), so a crash between storing and starting heals on the client's retry.
 */
export async function idempotent<T>(
  db: Kysely<Database>,
  scope: { scope: string; principalId: string; key: string | undefined },
  propose: () => { resourceId: string; request: T },
): Promise<IdempotentWork<T>> {
  const proposal = propose();
  if (!scope.key) return { ...proposal, replayed: false };
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({ scope: scope.scope, principal_id: scope.principalId, key: scope.key, resource_id: proposal.resourceId, request: json(proposal.request) })
    .onConflict((oc) => oc.columns(['scope', 'principal_id', 'key']).doNothing())
    .returning('resource_id')
    .executeTakeFirst();
  if (inserted) return { ...proposal, replayed: false };
  const winner = await db
    .selectFrom('idempotency_keys')
    .select(['resource_id', 'request'])
    .where('scope', '=', scope.scope)
    .where('principal_id', '=', scope.principalId)
    .where('key', '=', scope.key)
    .executeTakeFirstOrThrow();
  return { resourceId: winner.resource_id, request: winner.request as T, replayed: true };
}
