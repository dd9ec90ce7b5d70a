import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditedTransaction } from '../../db/audit';
import { insertControl } from '../../db/controls';
import { deleteTestSchedule } from '../../temporal/security-test-schedule';
import { changeBody, submitChange } from './change-gate-support';
import { seedCi } from '../setup/fixtures';
import { startHttpServer, type LoopbackServer } from '../setup/loopback';
import { eventually, startStack, type Stack } from '../setup/stack';

// Finding 5 of issue #14: a service owner could aim http_requires_auth (with DELETE), headers and
// tcp_port checks at 127.0.0.1 or private hosts, schedule them every 5 s and read the answers in the
// test report. `refusing` is Warden as deployed (no WARDEN_OUTBOUND_ALLOW, the default 1m floor);
// `allowing` is the harness default, which allows loopback so tests can reach their receivers.

let refusing: Stack;
let allowing: Stack;
let target: LoopbackServer;
const hits: string[] = [];
const scheduled: { stack: () => Stack; id: string }[] = [];

beforeAll(async () => {
  target = await startHttpServer((request: IncomingMessage, response) => {
    hits.push(`${request.method} ${request.url}`);
    response.writeHead(request.url?.startsWith('/itsm') ? 200 : 401, { 'www-authenticate': 'Bearer' }).end();
  });
  // The callback origin is allowed in both: only the outbound guard stands between Warden and it.
  const callbacks = { WARDEN_CALLBACK_ALLOWED_ORIGINS: target.url, WARDEN_CALLBACK_SECRET: 'outbound-callback-secret-0123456789' };
  [refusing, allowing] = await Promise.all([
    startStack({ env: { ...callbacks, WARDEN_OUTBOUND_ALLOW: '' } }),
    startStack({ env: { ...callbacks, WARDEN_TEST_INTERVAL_FLOOR: '2m' } }),
  ]);
});
afterAll(async () => {
  await Promise.all(scheduled.map(({ stack, id }) => deleteTestSchedule(stack().temporal.client, id)));
  await Promise.all([refusing?.close(), allowing?.close(), target?.close()]);
});

let names = 0;
const control = (procedure: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
  names += 1;
  return { name: `outbound ${names}`, owner: 'otto', kind: 'technical', process: 'security', procedure, ...extra };
};
const requiresAuth = (url: string) => ({ type: 'automated', check: 'http_requires_auth', params: { url, method: 'DELETE' } });
const tcpPort = (host: string) => ({ type: 'automated', check: 'tcp_port', params: { host, port: 22, expect: 'closed' } });

describe('writing a control whose check aims somewhere (no allowlist)', () => {
  let owner: string;
  let ciId: string;
  beforeAll(async () => {
    owner = await refusing.token(['service_owner'], 'otto');
    ({ ciId } = await seedCi(refusing.db, {
      owner: 'otto',
      name: 'portal.example',
      attributes: { hosts: ['api.portal.example'], addresses: ['10.40.0.0/24', '169.254.169.254', '127.0.0.1'] },
    }));
  });

  it.each([
    ['a loopback URL', requiresAuth('http://127.0.0.1:8080/admin'), 'body.procedure.params.url', /127\.0\.0\.1 is a loopback address/],
    ['localhost', requiresAuth('http://localhost/admin'), 'body.procedure.params.url', /localhost names this machine/],
    ['the metadata service', tcpPort('169.254.169.254'), 'body.procedure.params.host', /metadata address/],
    ['an IPv6 loopback', tcpPort('::1'), 'body.procedure.params.host', /loopback/],
    ['a private address no CI records', tcpPort('10.41.0.7'), 'body.procedure.params.host', /not an address recorded on the control's CIs/],
    ['a host no CI records', requiresAuth('https://intranet.example/admin'), 'body.procedure.params.url', /not a host recorded/],
  ])('refuses %s with 400 naming the field', async (_what, procedure, path, message) => {
    const response = await refusing.request('POST', '/controls', { token: owner, body: control(procedure, { ciIds: [ciId] }) });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
    expect(response.body.errors).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it("accepts hosts and addresses the control's CIs record, and names the CIs when a change orphans the target", async () => {
    for (const procedure of [
      requiresAuth('https://portal.example/admin'),
      requiresAuth('https://api.portal.example/'),
      tcpPort('10.40.0.9'),
    ]) {
      const response = await refusing.request('POST', '/controls', { token: owner, body: control(procedure, { ciIds: [ciId] }) });
      expect(response.status).toBe(201);
    }
    const created = await refusing.request('POST', '/controls', { token: owner, body: control(tcpPort('10.40.0.10'), { ciIds: [ciId] }) });
    const dropped = await refusing.request('PATCH', `/controls/${created.body.id}`, { token: owner, body: { ciIds: [] } });
    expect(dropped.status).toBe(400);
    expect(dropped.body.errors).toEqual([
      { path: 'body.ciIds', message: expect.stringMatching(/10\.40\.0\.10 is not an address recorded/) },
    ]);
    const renamed = await refusing.request('PATCH', `/controls/${created.body.id}`, { token: owner, body: { name: 'renamed outbound' } });
    expect(renamed.status).toBe(200);
  });

  it('refuses an imported row the same way, naming the row', async () => {
    const manager = await refusing.token(['security_manager']);
    const response = await refusing.request('POST', '/controls/import', {
      token: manager,
      body: [control(requiresAuth('https://portal.example/'), { ciIds: [ciId] }), control(tcpPort('127.0.0.1'))],
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ path: 'rows.2.procedure.params.host', message: expect.stringMatching(/loopback/) }]);
  });
});

describe('running a check whose target is refused', () => {
  /** A control written before these rules (straight into the database) against the loopback target. */
  async function legacyControl(stack: Stack) {
    const row = await auditedTransaction(stack.db, (trx) =>
      insertControl(trx, control(requiresAuth(`${target.url}/admin`)) as Parameters<typeof insertControl>[1], 'before-the-rules'),
    );
    return row.id;
  }
  async function runOnce(stack: Stack, controlId: string) {
    const tester = await stack.token(['tester']);
    expect((await stack.request('POST', `/controls/${controlId}/runs`, { token: tester })).status).toBe(202);
    return eventually(
      async () => {
        const runs = await stack.request('GET', `/test-runs?controlId=${controlId}`, { token: tester });
        return runs.body.items.find((run: { status: string }) => run.status === 'finished');
      },
      60_000,
      'the run to finish',
    );
  }

  it('reports an error without sending anything when the target is not allowed', async () => {
    const before = hits.length;
    const run = await runOnce(refusing, await legacyControl(refusing));
    expect(run).toMatchObject({
      result: 'error',
      summary: expect.stringMatching(/could not run: url: 127\.0\.0\.1 is a loopback address/),
    });
    expect(hits.slice(before)).toEqual([]);
  });

  it('runs it when WARDEN_OUTBOUND_ALLOW admits the target', async () => {
    const before = hits.length;
    const run = await runOnce(allowing, await legacyControl(allowing));
    expect(run).toMatchObject({ result: 'passed', evidence: { status: 401 } });
    expect(hits.slice(before)).toEqual(['DELETE /admin']);
  });
});

describe('the test interval floor', () => {
  it('refuses a schedule faster than WARDEN_TEST_INTERVAL_FLOOR (default 1m), naming the field', async () => {
    const manager = await refusing.token(['security_manager']);
    const created = await refusing.request('POST', '/controls', {
      token: manager,
      body: control({ type: 'manual', instructions: 'look' }),
    });
    const id = created.body.id as string;
    scheduled.push({ stack: () => refusing, id });
    const put = (body: Record<string, unknown>) => refusing.request('PUT', `/controls/${id}/schedule`, { token: manager, body });
    const fast = await put({ every: '5s' });
    expect(fast.status).toBe(400);
    expect(fast.body.errors).toEqual([{ path: 'body.every', message: expect.stringMatching(/faster than the floor of 1m/) }]);
    const atEvery = await put({ cron: '@every 10s' });
    expect(atEvery.status).toBe(400);
    expect(atEvery.body.errors[0].path).toBe('body.cron');
    expect((await put({ every: '1m', paused: true })).status).toBe(200);
  });

  it('measures a cron by the run times Temporal computes, and leaves the previous schedule in place', async () => {
    const manager = await allowing.token(['security_manager']);
    const created = await allowing.request('POST', '/controls', {
      token: manager,
      body: control({ type: 'manual', instructions: 'look' }),
    });
    const id = created.body.id as string;
    scheduled.push({ stack: () => allowing, id });
    const put = (body: Record<string, unknown>) => allowing.request('PUT', `/controls/${id}/schedule`, { token: manager, body });
    expect((await put({ cron: '0 3 * * *', paused: true })).status).toBe(200);
    // Every minute, under this stack's 2m floor.
    const fast = await put({ cron: '* * * * *', paused: true });
    expect(fast.status).toBe(400);
    expect(fast.body.errors).toEqual([
      { path: 'body.cron', message: expect.stringMatching(/runs every 60s, faster than the floor of 2m/) },
    ]);
    const kept = await allowing.request('GET', `/controls/${id}/schedule`, { token: manager });
    expect(kept.status).toBe(200);
    expect(kept.body.spec.cron).toBe('0 3 * * *');
    const gaps = kept.body.nextRunTimes.map((time: string, index: number, all: string[]) =>
      index ? Date.parse(time) - Date.parse(all[index - 1] as string) : 0,
    );
    expect(Math.max(...gaps)).toBe(86_400_000);
  });
});

describe('outbound calls from a stack', () => {
  const callbackOf = (stack: Stack, token: string, id: string, status: string) =>
    eventually(
      async () => {
        const callback = (await stack.request('GET', `/changes/${id}`, { token })).body.callbacks?.[0];
        return callback?.status === status ? callback : undefined;
      },
      60_000,
      `the callback to be ${status}`,
    );

  it('a change callback to a loopback receiver is given up at once, not sent, unless allowed', async () => {
    const refusingRequester = await refusing.token(['change_manager']);
    const before = hits.length;
    const refused = await submitChange(refusing, refusingRequester, changeBody({ callbackUrl: `${target.url}/itsm/refused` }));
    // One attempt, then given up: the refusal is not retried. (The workflow records the activity
    // failure's outer message as the reason, so the guard's own words do not reach lastError.)
    expect(await callbackOf(refusing, refusingRequester, refused.id, 'failed')).toMatchObject({ attempts: 1, lastStatusCode: null });
    expect(hits.slice(before).filter((hit) => hit.includes('/itsm/refused'))).toEqual([]);

    const allowingRequester = await allowing.token(['change_manager']);
    const allowed = await submitChange(allowing, allowingRequester, changeBody({ callbackUrl: `${target.url}/itsm/allowed` }));
    expect(await callbackOf(allowing, allowingRequester, allowed.id, 'delivered')).toMatchObject({ lastStatusCode: 200 });
    expect(hits.filter((hit) => hit === 'POST /itsm/allowed')).toHaveLength(1);
  });
});
