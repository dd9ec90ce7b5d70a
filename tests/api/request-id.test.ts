import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { startStack } from '../setup/stack';

// The API's log lines as JSON objects, as a log pipeline receives them.
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});
const logger = pino({ level: 'info', timestamp: pino.stdTimeFunctions.isoTime }, sink);
const stack = await startStack({ worker: false, apiLogger: logger });
afterAll(() => stack.close());

const completed = (id: string) => lines.find((line) => line.reqId === id && line.msg === 'request completed');

it('honours and echoes X-Request-Id, and logs it with the principal, ISO-timestamped', async () => {
  const token = await stack.token(['auditor'], 'audrey');
  const response = await stack.request('GET', '/services', { token, headers: { 'x-request-id': 'trace-abc.123' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('x-request-id')).toBe('trace-abc.123');
  expect(completed('trace-abc.123')).toMatchObject({
    principal: 'audrey',
    method: 'GET',
    route: '/services',
    statusCode: 200,
    time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
  });
});

it('makes a UUID when the header is absent or not a log-safe id, refusals included', async () => {
  for (const offered of [undefined, 'has spaces and\u00e9', 'x'.repeat(129)]) {
    const response = await stack.request('GET', '/services', { headers: offered === undefined ? {} : { 'x-request-id': offered } });
    expect(response.status).toBe(401);
    const id = response.headers.get('x-request-id') ?? '';
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(completed(id)).toMatchObject({ statusCode: 401 });
    expect(completed(id)?.principal).toBeUndefined();
  }
});
