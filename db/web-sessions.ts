import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isRole, type Actor } from '../domain/roles';
import { appendAudit, recordAudit } from './audit';
import type { Database } from './database';
import { hashToken } from './tokens';

/** Long enough for a working day, short enough that a forgotten browser signs itself out. */
export const webSessionLifetimeMs = 8 * 60 * 60 * 1000;

export interface WebSession {
  id: string;
  actor: Actor;
  expiresAt: Date;
}

/**
 * Signs in with an API token: a new session bound to that token, so revoking the token ends it.
 * Returns the cookie secret (shown once; only its hash is stored), or undefined for a token that is
 * unknown or revoked. Both outcomes are audited.
 */
export async function createWebSession(
  db: Kysely<Database>,
  token: string,
  client: { ip: string },
): Promise<{ secret: string; session: WebSession } | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('principals', 'principals.id', 'api_tokens.principal_id')
    .select(['api_tokens.id', 'api_tokens.principal_id', 'api_tokens.roles', 'principals.display_name'])
    .where('api_tokens.token_hash', '=', hashToken(token))
    .where('api_tokens.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) {
    // Failed sign-ins are what an audit of access looks for first; the token itself is never kept.
    await recordAudit(db, {
      actor: 'anonymous',
      action: 'session.sign_in_refused',
      subjectType: 'web-session',
      subjectId: '-',
      details: { ip: client.ip },
    });
    return undefined;
  }
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + webSessionLifetimeMs);
  const id = await db.transaction().execute(async (trx) => {
    const created = await trx
      .insertInto('web_sessions')
      .values({ secret_hash: hashToken(secret), token_id: row.id, principal_id: row.principal_id, expires_at: expiresAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: row.principal_id,
      action: 'session.created',
      subjectType: 'web-session',
      subjectId: created.id,
      details: { tokenId: row.id, expiresAt: expiresAt.toISOString(), ip: client.ip },
    });
    return created.id;
  });
  return {
    secret,
    session: { id, expiresAt, actor: { principalId: row.principal_id, displayName: row.display_name, roles: row.roles.filter(isRole) } },
  };
}

/** The live session a cookie secret names: not signed out, not expired, its token not revoked. */
export async function findWebSession(db: Kysely<Database>, secret: string): Promise<WebSession | undefined> {
  const row = await db
    .selectFrom('web_sessions')
    .innerJoin('api_tokens', 'api_tokens.id', 'web_sessions.token_id')
    .innerJoin('principals', 'principals.id', 'web_sessions.principal_id')
    .select(['web_sessions.id', 'web_sessions.expires_at', 'web_sessions.principal_id', 'api_tokens.roles', 'principals.display_name'])
    .where('web_sessions.secret_hash', '=', hashToken(secret))
    .where('web_sessions.revoked_at', 'is', null)
    .where('web_sessions.expires_at', '>', new Date())
    .where('api_tokens.revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    expiresAt: row.expires_at,
    actor: { principalId: row.principal_id, displayName: row.display_name, roles: row.roles.filter(isRole) },
  };
}

export async function endWebSession(db: Kysely<Database>, session: WebSession): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const ended = await trx
      .updateTable('web_sessions')
      .set({ revoked_at: new Date() })
      .where('id', '=', session.id)
      .where('revoked_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (ended)
      await appendAudit(trx, {
        actor: session.actor.principalId,
        action: 'session.ended',
        subjectType: 'web-session',
        subjectId: session.id,
      });
  });
}
