import { afterAll, describe, expect, it } from 'vitest';
import { roles, type Role } from '../../domain/roles';
import { concretePath, walkableRoutes } from '../setup/routes';
import { startStack } from '../setup/stack';
import { signedIn, webClient } from '../setup/web';

// Top-level await: the routes must be known while the tests are collected, one test per route and role.
const stack = await startStack();
afterAll(() => stack.close());

const tokenFor = Object.fromEntries(await Promise.all(roles.map(async (role) => [role, await stack.token([role])] as const))) as Record<
  Role,
  string
>;
const routes = walkableRoutes(stack.app);
// What the OpenAPI document says each operation can answer: the walk below holds the API to it.
const documentPaths = (await stack.request('GET', '/openapi.json')).body.paths as Record<
  string,
  Record<string, { responses: Record<string, unknown> }>
>;
const declaredStatuses = (route: (typeof routes)[number]) =>
  Object.keys(documentPaths[route.url.replace(/:([A-Za-z]\w*)/g, '{$1}')]?.[route.method.toLowerCase()]?.responses ?? {});

it('walks the routes the app registered, CMDB included', () => {
  const names = routes.map((route) => `${route.method} ${route.url}`);
  expect(names).toEqual(
    expect.arrayContaining([
      'POST /tokens',
      'GET /audit',
      'POST /services',
      'PATCH /services/:id',
      'DELETE /cis/:id',
      'GET /ui/tasks',
      'POST /ui/tasks/:id/decision',
    ]),
  );
});

/**
 * Inbox pages are walked the way a browser uses them: a fresh session per case (one case signs
 * out), and every form POST carries a valid CSRF token, so a 403 can only be the role check.
 */
const asBrowser = (client: ReturnType<typeof webClient>, method: string, path: string) =>
  method === 'GET' ? client.get(path) : client.post(path);

describe.each(routes)('$method $url', (route) => {
  if (route.roles === 'public') {
    it('answers without a token', async () => {
      const anonymous = webClient(stack);
      await anonymous.get('/ui/sign-in');
      const response = route.url.startsWith('/ui')
        ? await asBrowser(anonymous, route.method, concretePath(route.url))
        : await stack.request(route.method, concretePath(route.url));
      expect(response.status).not.toBe(401);
      expect(response.status).not.toBe(403);
    });
    return;
  }
  const admitted = route.roles;
  const expectRefused = (response: { status: number; body: unknown }) => {
    expect(response.status).toBe(403);
    expect(JSON.stringify(response.body)).toContain('this needs one of the roles');
  };

  if (route.credentials.includes('bearer')) {
    it.each(roles)('as %s with a bearer token', async (role) => {
      const response = await stack.request(route.method, concretePath(route.url), { token: tokenFor[role] });
      if (!route.hidden) expect(declaredStatuses(route), `answered ${response.status}, undeclared`).toContain(String(response.status));
      if (admitted.includes(role)) {
        expect([401, 403], `admitted, got ${response.status}: ${JSON.stringify(response.body)}`).not.toContain(response.status);
      } else {
        expectRefused(response);
        expect(response.headers.get('content-type')).toContain('application/problem+json');
        expect(response.body).toMatchObject({ status: 403, title: 'Forbidden' });
      }
    });

    it.each([
      ['no token', {}],
      ['an unknown token', { token: 'wdn_not-a-token-this-server-issued' }],
      ['a token in the wrong scheme', { headers: { authorization: `Basic ${tokenFor.admin}` } }],
    ])('refuses %s with 401', async (_, credentials) => {
      const response = await stack.request(route.method, concretePath(route.url), credentials);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.headers.get('www-authenticate')).toContain('Bearer');
    });
  }

  if (route.credentials.includes('session')) {
    it.each(roles)('as %s with a session', async (role) => {
      const response = await asBrowser(await signedIn(stack, tokenFor[role]), route.method, concretePath(route.url));
      if (admitted.includes(role)) {
        expect([401, 403], `admitted, got ${response.status}: ${response.body.slice(0, 300)}`).not.toContain(response.status);
        expect(response.headers.get('location') ?? '').not.toContain('/ui/sign-in?next=');
      } else {
        expectRefused(response);
      }
    });
  }

  if (!route.credentials.includes('bearer')) {
    it.each([
      ['no session', {}],
      ['an unknown session', { cookie: 'warden_session=not-a-session-this-server-issued' }],
      ['a bearer token instead of a session', { authorization: `Bearer ${tokenFor.admin}` }],
    ])('sends %s to sign-in', async (_, headers) => {
      const response = await fetch(stack.baseUrl + concretePath(route.url), { method: route.method, headers, redirect: 'manual' });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toMatch(/^\/ui\/sign-in\?next=/);
    });
  }
});
