import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config';
import { startStack, type Stack } from '../setup/stack';

// Issue #14, finding 6: 1,300 bogus-token requests met no 429 (the auth hook ran before the
// limiter, and each invented token had a budget of its own), and with `trustProxy: true` any
// X-Forwarded-For was believed. Finding 9: a 414 was not problem+json.

const stacks: Stack[] = [];
const stackWith = async (env: Record<string, string>) => {
  const stack = await startStack({ worker: false, env });
  stacks.push(stack);
  return stack;
};
afterAll(async () => {
  await Promise.all(stacks.map((stack) => stack.close()));
});

const bogus = () => `bogus-${randomBytes(12).toString('hex')}`;

/** Sends `count` requests, `parallel` at a time, and counts the answers by status. */
async function burst(count: number, parallel: number, send: (index: number) => Promise<{ status: number }>) {
  const statuses: Record<number, number> = {};
  for (let start = 0; start < count; start += parallel) {
    const batch = await Promise.all(Array.from({ length: Math.min(parallel, count - start) }, (_, i) => send(start + i)));
    for (const { status } of batch) statuses[status] = (statuses[status] ?? 0) + 1;
  }
  return statuses;
}

describe('requests without valid credentials', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await stackWith({ WARDEN_RATE_LIMIT_PER_MINUTE: '1200' });
  });

  it('are limited per client address: 1,300 bogus tokens meet 429s, while a real token keeps its own budget', async () => {
    const started = Date.now();
    const statuses = await burst(1300, 25, () => stack.request('GET', '/tasks', { token: bogus() }));
    // Exact while the burst fits in the minute the budget counts (a loaded machine may be slower).
    if (Date.now() - started < 55_000) expect(statuses).toEqual({ 401: 1200, 429: 100 });
    else expect(statuses[429]).toBeGreaterThan(0);
    const limited = await stack.request('GET', '/tasks', { token: bogus() });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(limited.body.detail).toMatch(/client address/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Missing credentials share the address's budget too.
    expect((await stack.request('GET', '/tasks')).status).toBe(429);

    const token = await stack.token(['security_analyst']);
    expect((await stack.request('GET', '/tasks', { token })).status).toBe(200);
  }, 120_000);
});

describe('X-Forwarded-For', () => {
  it('does not change the limiter’s key unless the proxy is trusted', async () => {
    const untrusted = await stackWith({ WARDEN_RATE_LIMIT_PER_MINUTE: '5' });
    const spoofed = await burst(10, 1, (i) =>
      untrusted.request('GET', '/tasks', { token: bogus(), headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } }),
    );
    expect(spoofed).toEqual({ 401: 5, 429: 5 });

    const trusted = await stackWith({ WARDEN_RATE_LIMIT_PER_MINUTE: '5', WARDEN_TRUST_PROXY: '127.0.0.1' });
    const forwarded = await burst(10, 1, (i) =>
      trusted.request('GET', '/tasks', { token: bogus(), headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } }),
    );
    expect(forwarded).toEqual({ 401: 10 });
    // One forwarded client is still one budget.
    const oneClient = await burst(6, 1, () =>
      trusted.request('GET', '/tasks', { token: bogus(), headers: { 'x-forwarded-for': '198.51.100.7' } }),
    );
    expect(oneClient).toEqual({ 401: 5, 429: 1 });
  }, 60_000);

  it('is trusted in the forms Fastify takes, and a bad form is refused naming the variable', () => {
    const parse = (value: string) => loadConfig({ WARDEN_TRUST_PROXY: value }).WARDEN_TRUST_PROXY;
    expect(loadConfig({}).WARDEN_TRUST_PROXY).toBe(false);
    expect(parse('true')).toBe(true);
    expect(parse('false')).toBe(false);
    expect(parse('2')).toBe(2);
    expect(parse('10.0.0.0/8, 192.168.1.10,::1,loopback')).toEqual(['10.0.0.0/8', '192.168.1.10', '::1', 'loopback']);
    expect(() => parse('proxy.example')).toThrow(/WARDEN_TRUST_PROXY/);
  });
});

describe('a path parameter longer than the router takes', () => {
  it('answers 414 as problem+json', async () => {
    const stack = await stackWith({});
    const response = await stack.request('GET', `/tasks/${'a'.repeat(500)}`);
    expect(response.status).toBe(414);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body).toMatchObject({ status: 414, title: 'URI Too Long' });
  });
});
