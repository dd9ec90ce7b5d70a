import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isRole, type Actor, type Role } from '../domain/roles';
import { appendAudit, auditedTransaction, recordAudit } from './audit';
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
    await recordRefusedSignIn(db, { ip: client.ip, reason: 'unknown or revoked token' });
    return undefined;
  }
  return openSession(db, {
    principalId: row.principal_id,
    displayName: row.display_name,
    roles: row.roles.filter(isRole),
    source: { token_id: row.id },
    audited: { tokenId: row.id, ip: client.ip },
  });
}

/** A person the identity provider vouched for: its subject, the name and e-mail its claims gave, the roles they map to. */
export interface VouchedIdentity {
  issuer: string;
  principalId: string;
  displayName: string;
  email: string | undefined;
  roles: Role[];
}

/**
 * Signs in a person the identity provider vouched for: their principal is created or its name and
 * e-mail refreshed from the claims, and a session carries the roles mapped at this sign-in (they
 * change at the provider, and count from the next sign-in). Audited with the issuer and roles.
 */
export async function createIdentitySession(
  db: Kysely<Database>,
  identity: VouchedIdentity,
  client: { ip: string },
): Promise<{ secret: string; session: WebSession }> {
  await db
    .insertInto('principals')
    .values({ id: identity.principalId, display_name: identity.displayName, email: identity.email ?? null })
    .onConflict((oc) => oc.column('id').doUpdateSet({ display_name: identity.displayName, email: identity.email ?? null }))
    .execute();
  return openSession(db, {
    ...identity,
    source: { identity_provider: identity.issuer, roles: identity.roles },
    audited: { issuer: identity.issuer, roles: identity.roles, ip: client.ip },
  });
}

/** Sign-ins refused before a session exists (a tampered state, a person without a Warden role), for the audit of access. */
export async function recordRefusedSignIn(db: Kysely<Database>, details: { ip: string; reason: string; principalId?: string }) {
  await recordAudit(db, {
    actor: details.principalId ?? 'anonymous',
    action: 'session.sign_in_refused',
    subjectType: 'web-session',
    subjectId: '-',
    details: { ip: details.ip, reason: details.reason },
  });
}

async function openSession(
  db: Kysely<Database>,
  opening: {
    principalId: string;
    displayName: string;
    roles: Role[];
    source: { token_id: string } | { identity_provider: string; roles: Role[] };
    audited: Record<string, unknown>;
  },
): Promise<{ secret: string; session: WebSession }> {
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + webSessionLifetimeMs);
  const id = await auditedTransaction(db, async (trx) => {
    const created = await trx
      .insertInto('web_sessions')
      .values({ secret_hash: hashToken(secret), principal_id: opening.principalId, expires_at: expiresAt, ...opening.source })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      actor: opening.principalId,
      action: 'session.created',
      subjectType: 'web-session',
      subjectId: created.id,
      details: { ...opening.audited, expiresAt: expiresAt.toISOString() },
    });
    return created.id;
  });
  return {
    secret,
    session: { id, expiresAt, actor: { principalId: opening.principalId, displayName: opening.displayName, roles: opening.roles } },
  };
}

/** The live session a cookie secret names: not signed out, not expired, its token not revoked. */
export async function findWebSession(db: Kysely<Database>, secret: string): Promise<WebSession | undefined> {
  const row = await db
    .selectFrom('web_sessions')
    .leftJoin('api_tokens', 'api_tokens.id', 'web_sessions.token_id')
    .innerJoin('principals', 'principals.id', 'web_sessions.principal_id')
    .select((eb) => [
      'web_sessions.id',
      'web_sessions.expires_at',
      'web_sessions.principal_id',
      'principals.display_name',
      // A token session has the token's roles today; an identity session the roles mapped at sign-in.
      eb.fn.coalesce('web_sessions.roles', 'api_tokens.roles').as('roles'),
    ])
    .where('web_sessions.secret_hash', '=', hashToken(secret))
    .where('web_sessions.revoked_at', 'is', null)
    .where('web_sessions.expires_at', '>', new Date())
    .where((eb) => eb.or([eb('web_sessions.token_id', 'is', null), eb('api_tokens.revoked_at', 'is', null)]))
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    id: row.id,
    expiresAt: row.expires_at,
    actor: { principalId: row.principal_id, displayName: row.display_name, roles: (row.roles ?? []).filter(isRole) },
  };
}

export async function endWebSession(db: Kysely<Database>, session: WebSession): Promise<void> {
  await auditedTransaction(db, async (trx) => {
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
