import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../db/tokens';
import { signedIn, webClient } from '../setup/web';
import { startStack } from '../setup/stack';
import { linkPendingAudit } from '../../db/audit-linker';

const stack = await startStack({ worker: false });
const httpsStack = await startStack({ worker: false, env: { WARDEN_PUBLIC_URL: 'https://warden.example.org' } });
afterAll(async () => {
  await stack.close();
  await httpsStack.close();
});

const auditActions = async (actor: string) => {
  await linkPendingAudit(stack.db);
  return (await stack.db.selectFrom('audit_events').select('action').where('actor', '=', actor).orderBy('id').execute()).map(
    (row) => row.action,
  );
};

describe('sign-in and sessions', () => {
  it('exchanges a token for a session cookie that is HttpOnly, SameSite=Strict, Path=/ and not Secure over http', async () => {
    const token = await stack.token(['security_manager'], 'mara');
    const client = webClient(stack);
    await client.get('/ui/sign-in');
    const response = await client.post('/ui/sign-in', { token });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/ui/tasks');
    const session = client.lastSetCookies.find((c) => c.startsWith('warden_session='));
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).toMatch(/; Path=\/(;|$)/);
    expect(session).toMatch(/; Max-Age=28800/);
    expect(session).not.toMatch(/Secure/);
    // The cookie carries a session secret, never the token, and only the secret's hash is stored.
    expect(session).not.toContain(token);
    const secret = client.cookies.get('warden_session') as string;
    expect(await stack.db.selectFrom('web_sessions').select('id').where('secret_hash', '=', secret).execute()).toHaveLength(0);
    expect(await stack.db.selectFrom('web_sessions').select('principal_id').where('secret_hash', '=', hashToken(secret)).execute()).toEqual(
      [{ principal_id: 'mara' }],
    );
    const page = await client.get('/ui/tasks');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.body).toContain('My tasks');
  });

  it('marks the session and CSRF cookies Secure when the public URL is https', async () => {
    const token = await httpsStack.token(['reporter'], 'rick');
    const client = webClient(httpsStack);
    await client.get('/ui/sign-in');
    expect(client.lastSetCookies.find((c) => c.startsWith('warden_csrf='))).toMatch(/; Secure/);
    await client.post('/ui/sign-in', { token });
    expect(client.lastSetCookies.find((c) => c.startsWith('warden_session='))).toMatch(/; Secure/);
  });

  it('refuses a form POST without the CSRF token (403), sign-in included', async () => {
    const token = await stack.token(['security_analyst'], 'cleo');
    const anonymous = webClient(stack);
    await anonymous.get('/ui/sign-in');
    const noToken = await anonymous.post('/ui/sign-in', { token }, { csrf: false });
    expect(noToken.status).toBe(403);
    expect(noToken.body).toContain('This form has expired or did not come from Warden');
    expect(noToken.headers.get('set-cookie') ?? '').not.toContain('warden_session');

    const client = await signedIn(stack, token);
    const forged = await client.post('/ui/sign-out', { _csrf: 'forged' }, { csrf: false });
    expect(forged.status).toBe(403);
    const decision = await client.post(`/ui/tasks/${crypto.randomUUID()}/decision`, { outcome: 'approved' }, { csrf: false });
    expect(decision.status).toBe(403);
    expect((await client.get('/ui/tasks')).status).toBe(200); // still signed in
  });

  it('refuses an unknown token on the page, and audits sign-in, refusal and sign-out', async () => {
    const client = webClient(stack);
    await client.get('/ui/sign-in');
    const refused = await client.post('/ui/sign-in', { token: 'wdn_never-issued' });
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('That token is unknown or revoked.');

    const token = await stack.token(['tester'], 'tess');
    const session = await signedIn(stack, token);
    const out = await session.post('/ui/sign-out');
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/ui/sign-in');
    expect(session.cookies.has('warden_session')).toBe(false);
    expect(await auditActions('tess')).toEqual(['session.created', 'session.ended']);
    expect(await auditActions('anonymous')).toContain('session.sign_in_refused');
  });

  it('sends people without a live session to sign-in, and keeps a signed-out cookie out', async () => {
    const anonymous = await webClient(stack).get('/ui/incidents?status=closed');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe(`/ui/sign-in?next=${encodeURIComponent('/ui/incidents?status=closed')}`);

    const client = await signedIn(stack, await stack.token(['auditor'], 'otto'));
    const cookie = client.cookies.get('warden_session') as string;
    await client.post('/ui/sign-out');
    client.cookies.set('warden_session', cookie); // a copy kept from before signing out
    expect((await client.get('/ui/tasks')).status).toBe(303);
  });

  it('ends sessions when their token is revoked', async () => {
    const admin = await stack.token(['admin'], 'ada');
    const created = await stack.request('POST', '/tokens', { token: admin, body: { name: 'Sue', roles: ['service_owner'] } });
    const client = await signedIn(stack, created.body.token);
    expect((await client.get('/ui/tasks')).status).toBe(200);
    expect((await stack.request('DELETE', `/tokens/${created.body.id}`, { token: admin })).status).toBe(204);
    expect((await client.get('/ui/tasks')).status).toBe(303);
    const sessions = await stack.db.selectFrom('web_sessions').select('revoked_at').where('token_id', '=', created.body.id).execute();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.revoked_at).not.toBeNull();
  });

  it('shows a page to signed-in people without the role as 403, in HTML', async () => {
    const client = await signedIn(stack, await stack.token(['auditor'], 'ava'));
    const response = await client.post(`/ui/tasks/${crypto.randomUUID()}/decision`, { outcome: 'approved' });
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('text/html');
    expect(response.body).toContain('this needs one of the roles');
  });

  it('leads from the bare address to the inbox', async () => {
    const root = await fetch(`${stack.baseUrl}/`, { redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([303, '/ui/tasks']);
  });

  it('serves one stylesheet and one script with a content hash and a year-long cache, and a strict CSP', async () => {
    const client = await signedIn(stack, await stack.token(['reporter'], 'rhea'));
    const page = await client.get('/ui/incidents');
    const href = /<link rel="stylesheet" href="([^"]+)">/.exec(page.body)?.[1] as string;
    expect(href).toMatch(/^\/ui\/assets\/inbox\.[0-9a-f]{12}\.css$/);
    const css = await fetch(stack.baseUrl + href);
    expect(css.status).toBe(200);
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${stack.baseUrl}/ui/assets/inbox.000000000000.css`)).status).toBe(404);
    const script = /<script type="module" src="([^"]+)"><\/script>/.exec(page.body)?.[1] as string;
    expect(script).toMatch(/^\/ui\/assets\/time-left\.[0-9a-f]{12}\.js$/);
    const js = await fetch(stack.baseUrl + script);
    expect([js.status, js.headers.get('content-type'), js.headers.get('cache-control')]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
    ]);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    // The one script is a file from 'self': no inline script or style for the CSP to refuse.
    expect(page.body.match(/<script/g)).toHaveLength(1);
    expect(page.body).not.toMatch(/<script>|style=/);
  });

  it('decodes codec payloads for a session cookie as for a bearer token', async () => {
    const client = await signedIn(stack, await stack.token(['security_analyst'], 'cody'));
    const encoded = await stack.request('POST', '/codec/encode', {
      token: await stack.token(['admin']),
      body: {
        payloads: [
          { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"secret"').toString('base64') },
        ],
      },
    });
    const response = await fetch(`${stack.baseUrl}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `warden_session=${client.cookies.get('warden_session')}` },
      body: JSON.stringify(encoded.body),
    });
    expect(response.status).toBe(200);
    const decoded = (await response.json()) as { payloads: { data: string }[] };
    expect(Buffer.from(decoded.payloads[0]?.data as string, 'base64').toString()).toBe('"secret"');
  });
});
