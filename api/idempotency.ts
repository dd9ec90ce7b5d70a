import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { canonicalJson } from '../db/audit';
import { claimIdempotencyKey, findIdempotencyKey, type StoredIdempotencyKey } from '../db/idempotency-keys';
import type { Database } from '../db/database';
import { conflict, invalid } from '../http/problem';

/** Scopes in use, so two resources never share one by accident. */
export const idempotencyScopes = { change: 'change', problemProposal: 'problem_proposal' } as const;

export interface IdempotencyScope {
  /** What kind of resource the key creates (`change`, `incidents`): keys are unique per scope. */
  scope: string;
  /** Keys are the caller's: two principals may use the same key for different requests. */
  principalId: string;
  /** The `Idempotency-Key` header; without one, every request is new. */
  key: string | undefined;
  /** The client's request as sent: a key reused for a different request is refused (409). */
  body?: unknown;
}

export interface Proposal<T> {
  resourceId: string;
  /** Everything needed to start the work, stored with the key (a workflow's input). */
  request: T;
}

export interface IdempotentWork<T> extends Proposal<T> {
  /** True when an earlier request with the same key created the resource; `request` is then its. */
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
 * The same key from the same principal names one resource forever, even when requests race: every
 * racer proposes, one insert wins, and the others read the winner's resource id and request back.
 * Callers then start the work from the returned request with `startOnce`, so a duplicate (or a
 * retry after the winner crashed between storing and starting) repeats the same start and gets the
 * same answer. A sequential retry finds the key first and does not propose at all.
 */
export async function idempotent<T>(
  db: Kysely<Database>,
  { scope, principalId, key, body }: IdempotencyScope,
  propose: () => Promise<Proposal<T>> | Proposal<T>,
): Promise<IdempotentWork<T>> {
  if (!key) return { ...(await propose()), replayed: false };
  const fingerprint = body === undefined ? null : createHash('sha256').update(canonicalJson(body)).digest('hex');
  const name = { scope, principalId, key };
  const replay = (row: StoredIdempotencyKey): IdempotentWork<T> => {
    if (row.fingerprint !== null && fingerprint !== null && row.fingerprint !== fingerprint) {
      throw conflict(`Idempotency-Key ${JSON.stringify(key)} was already used for a different request`);
    }
    return { resourceId: row.resource_id, request: row.request as T, replayed: true };
  };

  const earlier = await findIdempotencyKey(db, name);
  if (earlier) return replay(earlier);
  const proposal = await propose();
  if (await claimIdempotencyKey(db, { ...name, ...proposal, fingerprint })) return { ...proposal, replayed: false };
  // The claim waited for the winner's commit, so its row is visible now.
  const winner = await findIdempotencyKey(db, name);
  if (!winner) throw new Error(`idempotency key ${scope}/${principalId}/${key} conflicted but cannot be read`);
  return replay(winner);
}
