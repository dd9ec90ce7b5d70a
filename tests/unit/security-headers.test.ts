import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../config';
import { buildServer } from '../../server';

// Nothing here reaches PostgreSQL or Temporal: a 404, a refusal and a public route.
const unused = {} as never;
const app = await buildServer({ config: loadConfig({}), db: unused, temporal: unused, codec: unused });
app.get('/own-headers', { config: { public: true, helmet: { skipRoute: true } }, schema: { hide: true } }, async () => 'theirs');
await app.ready();
afterAll(() => app.close());

/** helmet's defaults, in the order it sets them, ahead of every other header. */
const securityHeaders = [
  [
    'content-security-policy',
    "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
  ],
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['origin-agent-cluster', '?1'],
  ['referrer-policy', 'no-referrer'],
  ['strict-transport-security', 'max-age=31536000; includeSubDomains'],
  ['x-content-type-options', 'nosniff'],
  ['x-dns-prefetch-control', 'off'],
  ['x-download-options', 'noopen'],
  ['x-frame-options', 'SAMEORIGIN'],
  ['x-permitted-cross-domain-policies', 'none'],
  ['x-xss-protection', '0'],
];
const names = new Set(securityHeaders.map(([name]) => name));

it('sends helmet’s security headers on every response, each request alike, refusals and unknown paths included', async () => {
  for (const url of ['/incidents', '/no-such-path', '/incidents', '/no-such-path']) {
    const response = await app.inject({ url });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(Object.entries(response.headers).slice(0, securityHeaders.length)).toEqual(securityHeaders);
  }
});

it('sends none of them for a route that sends its own', async () => {
  const response = await app.inject({ url: '/own-headers' });
  expect([response.statusCode, response.body]).toEqual([200, 'theirs']);
  expect(Object.keys(response.headers).filter((name) => names.has(name))).toEqual([]);
});
