import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createDb } from '../../db/create-db';
import { hashToken } from '../../db/tokens';
import { buildServer } from '../../server';
import { serverDeps } from '../../wiring';
import { eventually, startStack } from '../setup/stack';
import { signedIn } from '../setup/web';

// A minute of cache life: anything refused within the tests' deadlines was refused because the
// change was heard (in this process, or by NOTIFY from another), never because an entry aged out.
const stack = await startStack({ worker: false, env: { WARDEN_AUTH_CACHE_TTL: '60s' } });
const otherPool = createDb(stack.databaseUrl, pino({ level: 'silent' }));
const otherApi = await buildServer(serverDeps(stack.config, { db: otherPool.db, temporal: stack.temporal }));
const otherUrl = await otherApi.listen({ port: 0, host: '127.0.0.1' });
afterAll(async () => {
  await otherApi.close();
  await otherPool.close();
  await stack.close();
});

const admin = await stack.token(['admin'], 'cache-admin');
const tokenId = async (token: string) =>
  (await stack.db.selectFrom('api_tokens').select('id').where('token_hash', '=', hashToken(token)).executeTakeFirstOrThrow()).id;
const status = async (baseUrl: string, path: string, token: string) =>
  (await fetch(baseUrl + path, { headers: { authorization: `Bearer ${token}` } })).status;

describe('the credential cache', () => {
  it('refuses a token revoked through this process from the very next request', async () => {
    const token = await stack.token(['security_analyst']);
    expect(await status(stack.baseUrl, '/tasks', token)).toBe(200);
    expect(await status(stack.baseUrl, '/tasks', token)).toBe(200);
    // The NOTIFY usually arrives first too; that the route itself forgets is what makes it certain.
    const forgotten = vi.spyOn(stack.app.credentials, 'forgetAll');
    const revoked = await stack.request('DELETE', `/tokens/${await tokenId(token)}`, { token: admin });
    expect(revoked.status).toBe(204);
    expect(await status(stack.baseUrl, '/tasks', token)).toBe(401);
    expect(forgotten).toHaveBeenCalled();
    forgotten.mockRestore();
  });

  it('refuses a token revoked through another API process once the change is heard, long before the entry ages out', async () => {
    const token = await stack.token(['security_analyst']);
    expect(await status(stack.baseUrl, '/tasks', token)).toBe(200);
    const revoked = await fetch(`${otherUrl}/tokens/${await tokenId(token)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(revoked.status).toBe(204);
    await eventually(async () => (await status(stack.baseUrl, '/tasks', token)) === 401, 10_000, 'the revocation to reach the first API');
  });

  it('takes a change of roles made in PostgreSQL by hand into account', async () => {
    const token = await stack.token(['admin']);
    expect(await status(stack.baseUrl, '/tokens', token)).toBe(200);
    await stack.db
      .updateTable('api_tokens')
      .set({ roles: ['reporter'] })
      .where('id', '=', await tokenId(token))
      .execute();
    await eventually(async () => (await status(stack.baseUrl, '/tokens', token)) === 403, 10_000, 'the roles change to be heard');
    expect(await status(stack.baseUrl, '/incidents', token)).toBe(200);
  });

  it('is told of changed credentials only, not of updates that change nothing', async () => {
    const principalId = (await stack.db.selectFrom('api_tokens').select('principal_id').executeTakeFirstOrThrow()).principal_id;
    const notices: string[] = [];
    const listener = new pg.Client({ connectionString: stack.databaseUrl });
    await listener.connect();
    try {
      listener.on('notification', (message) => notices.push(message.channel));
      await listener.query('listen warden_credentials');
      await listener.query('listen credential_test_marker');
      // The same value written back (as a sign-in upserts an unchanged name), then a real change,
      // then a marker: notices arrive in commit order, so once the marker is here every notice the
      // two updates sent is too.
      await stack.db
        .updateTable('principals')
        .set((eb) => ({ display_name: eb.ref('display_name') }))
        .where('id', '=', principalId)
        .execute();
      const { display_name: name } = await stack.db
        .selectFrom('principals')
        .select('display_name')
        .where('id', '=', principalId)
        .executeTakeFirstOrThrow();
      await stack.db
        .updateTable('principals')
        .set({ display_name: `${name} (renamed)` })
        .where('id', '=', principalId)
        .execute();
      await sql`select pg_notify('credential_test_marker', '')`.execute(stack.db);
      await eventually(async () => notices.includes('credential_test_marker'), 5_000, 'the marker notice');
      expect(notices).toEqual(['warden_credentials', 'credential_test_marker']);
      await stack.db.updateTable('principals').set({ display_name: name }).where('id', '=', principalId).execute();
    } finally {
      await listener.end();
    }
  });

  it('does not accept unknown tokens, nor remember them', async () => {
    const token = 'wdn_not-issued-by-anyone-at-all';
    expect(await status(stack.baseUrl, '/tasks', token)).toBe(401);
    // Issued now with that very secret: an unknown answer was not kept.
    await stack.db
      .insertInto('api_tokens')
      .values({ name: 'late', principal_id: 'cache-admin', roles: ['auditor'], token_hash: hashToken(token), created_by: 'test' })
      .execute();
    expect(await status(stack.baseUrl, '/tasks', token)).toBe(200);
  });

  it('serves a session no longer than its expiry, though the cache would keep it a minute', async () => {
    const token = await stack.token(['security_manager']);
    const client = await signedIn(stack, token);
    const secret = client.cookies.get('warden_session') as string;
    const expiresAt = new Date(Date.now() + 3_000);
    await stack.db.updateTable('web_sessions').set({ expires_at: expiresAt }).where('secret_hash', '=', hashToken(secret)).execute();
    await eventually(async () => (await client.get('/ui/tasks')).status === 200, 3_000, 'the session to be read again');
    // The clock itself is what is waited for here.
    await eventually(async () => Date.now() > expiresAt.getTime() + 5, 10_000, 'the session to expire');
    const after = await client.get('/ui/tasks');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toContain('/ui/sign-in');
  });

  it('stops serving a session signed out in another process', async () => {
    const token = await stack.token(['security_manager']);
    const client = await signedIn(stack, token);
    expect((await client.get('/ui/tasks')).status).toBe(200);
    const principal = await stack.db
      .selectFrom('api_tokens')
      .select('principal_id')
      .where('token_hash', '=', hashToken(token))
      .executeTakeFirstOrThrow();
    await otherPool.db
      .updateTable('web_sessions')
      .set({ revoked_at: new Date() })
      .where('principal_id', '=', principal.principal_id)
      .execute();
    await eventually(async () => (await client.get('/ui/tasks')).status === 303, 10_000, 'the sign-out to be heard');
  });
});
