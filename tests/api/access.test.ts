import { afterAll, describe, expect, it } from 'vitest';
import { roles, type Role } from '../../domain/roles';
import { concretePath, walkableRoutes } from '../setup/routes';
import { startStack } from '../setup/stack';

// Top-level await: the routes must be known while the tests are collected, one test per route and role.
const stack = await startStack();
afterAll(() => stack.close());

const tokenFor = Object.fromEntries(await Promise.all(roles.map(async (role) => [role, await stack.token([role])] as const))) as Record<Role, string>;
const routes = walkableRoutes(stack.app);

it('walks the routes the app registered, CMDB included', () => {
  const names = routes.map((route) => `${route.method} ${route.url}`);
  expect(names).toEqual(expect.arrayContaining(['POST /tokens', 'GET /audit', 'POST /services', 'PATCH /services/:id', 'DELETE /cis/:id']));
});

describe.each(routes)('$method $url', (route) => {
  if (route.roles === 'public') {
    it('answers without a token', async () => {
      const response = await stack.request(route.method, concretePath(route.url));
      expect(response.status).not.toBe(401);
      expect(response.status).not.toBe(403);
    });
    return;
  }
  const admitted = route.roles;

  it.each(roles)('as %s', async (role) => {
    const response = await stack.request(route.method, concretePath(route.url), { token: tokenFor[role] });
    if (admitted.includes(role)) {
      expect([401, 403], `admitted, got ${response.status}: ${JSON.stringify(response.body)}`).not.toContain(response.status);
    } else {
      expect(response.status).toBe(403);
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
});
