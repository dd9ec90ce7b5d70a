import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Actor } from '../domain/roles';
import { listenForCredentialChanges } from '../db/credential-changes';
import type { Database } from '../db/database';
import { actorForToken, hashToken } from '../db/tokens';
import { findWebSession, type WebSession } from '../db/web-sessions';

export interface CredentialCacheSettings {
  /** How long an answer may be reused: the bound on a change this process did not hear of. 0 turns the cache off. */
  ttlMs: number;
  /** How many tokens and sessions are remembered; the least recently used go first. */
  maxEntries: number;
  /** Where to LISTEN for changes; without it nothing is cached, since a change elsewhere would go unheard. */
  databaseUrl: string | undefined;
}

/**
 * Who a bearer token or a session cookie stands for, remembered briefly so that a request does not
 * cost a PostgreSQL round trip to authenticate. The security promises, in order of strength:
 * - a change made through this process (a revocation, a sign-out) calls `forgetAll` before it answers,
 *   so the very next request is looked up again;
 * - a change anywhere else (another API process, psql) reaches every process by the credential
 *   tables' NOTIFY, usually within milliseconds;
 * - while the LISTEN connection is down nothing is cached and nothing cached is used, and every
 *   answer expires after `ttlMs` regardless: the bound if a notice is ever late;
 * - a session is never served past its own expiry; unknown credentials are not cached, so guessing
 *   tokens costs a lookup each and cannot evict the good ones any faster than real traffic does;
 * - keys are SHA-256 hashes of the secrets, as in PostgreSQL; the secrets themselves are never kept.
 */
export interface CredentialCache {
  actorForToken(token: string): Promise<Actor | undefined>;
  findWebSession(secret: string): Promise<WebSession | undefined>;
  /** Drops everything remembered, and any answer still on its way from PostgreSQL. */
  forgetAll(): void;
  close(): Promise<void>;
}

type Remembered = { kind: 'token'; actor: Actor } | { kind: 'session'; session: WebSession };

export function createCredentialCache(
  db: Kysely<Database>,
  settings: CredentialCacheSettings,
  logger?: Pick<Logger, 'warn'>,
): CredentialCache {
  const { ttlMs, databaseUrl } = settings;
  if (ttlMs <= 0 || !databaseUrl) {
    return {
      actorForToken: (token) => actorForToken(db, token),
      findWebSession: (secret) => findWebSession(db, secret),
      forgetAll() {},
      close: async () => {},
    };
  }
  const remembered = new LRUCache<string, Remembered>({ max: settings.maxEntries, ttl: ttlMs });
  // Bumped by every change heard: an answer read before the change and arriving after it is not kept.
  let generation = 0;
  let listening = false;
  const forgetAll = () => {
    generation += 1;
    remembered.clear();
  };
  const listener = listenForCredentialChanges(
    databaseUrl,
    {
      changed: forgetAll,
      listening() {
        forgetAll();
        listening = true;
      },
      deaf() {
        listening = false;
        forgetAll();
      },
    },
    logger,
  );

  async function lookUp<T>(key: string, read: () => Promise<T | undefined>, remember: (value: T) => { entry: Remembered; ttl: number }) {
    const started = generation;
    const value = await read();
    if (value !== undefined && listening && generation === started) {
      const { entry, ttl } = remember(value);
      if (ttl > 0) remembered.set(key, entry, { ttl });
    }
    return value;
  }

  return {
    async actorForToken(token) {
      const key = `token:${hashToken(token)}`;
      const hit = listening ? remembered.get(key) : undefined;
      if (hit?.kind === 'token') return hit.actor;
      return lookUp(
        key,
        () => actorForToken(db, token),
        (actor) => ({ entry: { kind: 'token', actor }, ttl: ttlMs }),
      );
    },
    async findWebSession(secret) {
      const key = `session:${hashToken(secret)}`;
      const hit = listening ? remembered.get(key) : undefined;
      // The cache's own expiry is already cut to the session's; this check makes it exact to the millisecond.
      if (hit?.kind === 'session' && hit.session.expiresAt.getTime() > Date.now()) return hit.session;
      return lookUp(
        key,
        () => findWebSession(db, secret),
        (session) => ({ entry: { kind: 'session', session }, ttl: Math.min(ttlMs, session.expiresAt.getTime() - Date.now()) }),
      );
    },
    forgetAll,
    close: () => listener.close(),
  };
}
