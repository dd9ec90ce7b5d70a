import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Actor, Role } from '../domain/roles';
import { isRole } from '../domain/roles';
import { appendAudit, auditedTransaction } from './audit';
import type { Database } from './database';

const tokenPrefix = 'wdn_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return tokenPrefix + randomBytes(32).toString('base64url');
}

export interface CreatedToken {
  id: string;
  token: string;
  principalId: string;
  roles: Role[];
}

export interface TokenRequest {
  name: string;
  roles: Role[];
  /** Stable identity the token acts as; several tokens may share one (rotation). Defaults to `name`. */
  principalId?: string;
  displayName?: string;
  email?: string;
  /** A caller-chosen secret (bootstrap automation); otherwise a random one is generated. */
  token?: string;
}

/** Creates a token and shows its secret once: only its SHA-256 is stored. */
export async function createToken(db: Kysely<Database>, request: TokenRequest, createdBy: string): Promise<CreatedToken> {
  const token = request.token ?? generateToken();
  const principalId = request.principalId ?? request.name;
  return auditedTransaction(db, async (trx) => {
    await trx
      .insertInto('principals')
      .values({ id: principalId, display_name: request.displayName ?? request.name, email: request.email ?? null })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    const row = await trx
      .insertInto('api_tokens')
      .values({ name: request.name, principal_id: principalId, roles: request.roles, token_hash: hashToken(token), created_by: createdBy })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: createdBy,
      action: 'token.created',
      subjectType: 'token',
      subjectId: row.id,
      details: { name: request.name, principalId, roles: request.roles },
    });
    return { id: row.id, token, principalId, roles: request.roles };
  });
}

export async function revokeToken(db: Kysely<Database>, id: string, revokedBy: string): Promise<boolean> {
  return auditedTransaction(db, async (trx) => {
    const revoked = await trx
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!revoked) return false;
    // Sessions signed in with the token die with it (findWebSession also checks the token).
    const sessions = await trx
      .updateTable('web_sessions')
      .set({ revoked_at: new Date() })
      .where('token_id', '=', id)
      .where('revoked_at', 'is', null)
      .returning('id')
      .execute();
    await appendAudit(trx, {
      actor: revokedBy,
      action: 'token.revoked',
      subjectType: 'token',
      subjectId: id,
      details: { sessionsEnded: sessions.length },
    });
    return true;
  });
}

export async function actorForToken(db: Kysely<Database>, token: string): Promise<Actor | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('principals', 'principals.id', 'api_tokens.principal_id')
    .select(['api_tokens.principal_id', 'api_tokens.roles', 'principals.display_name'])
    .where('api_tokens.token_hash', '=', hashToken(token))
    .where('api_tokens.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  return { principalId: row.principal_id, displayName: row.display_name, roles: row.roles.filter(isRole) };
}

export async function hasAnyToken(db: Kysely<Database>): Promise<boolean> {
  return (await db.selectFrom('api_tokens').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Every token, oldest first, without its hash. */
export function listTokens(db: Kysely<Database>) {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'principal_id', 'roles', 'created_at', 'revoked_at'])
    .orderBy('created_at')
    .execute();
}
