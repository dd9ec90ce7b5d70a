import type { LookupAddress } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckNotRunnable, runCheck, type CheckContext } from '../../activities/checks/index';
import { createNotifier, type OutboundMessage } from '../../activities/notifier';
import { createOutboundGuard, isOutboundRefused, type OutboundGuard, type Resolve } from '../../activities/outbound';
import { postSignedAction } from '../../activities/signed-webhook';
import { parseAllowlist, recordedTargets, type OutboundAllowlist } from '../../domain/outbound';
import { parseCheckParams } from '../../schemas/security-checks';
import { hardenedHeaders, selfSignedCertificate, startHttpServer, startHttpsServer, type LoopbackServer } from '../setup/loopback';

// Real sockets on loopback: a guard without WARDEN_OUTBOUND_ALLOW must refuse to reach them, before
// a single byte is sent, and one that allows 127.0.0.0/8 must reach them.

const allow = (text: string) => (parseAllowlist(text) as { allowlist: OutboundAllowlist }).allowlist;
const refusing = createOutboundGuard(allow(''));
const loopbackAllowed = createOutboundGuard(allow('127.0.0.0/8,::1'));

let receiver: LoopbackServer;
let redirector: LoopbackServer;
let tls: LoopbackServer;
const received: { url: string; body: string }[] = [];
const certificate = selfSignedCertificate(30);

beforeAll(async () => {
  receiver = await startHttpServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ url: request.url ?? '', body });
      response.writeHead(request.url === '/admin' ? 401 : 200, hardenedHeaders).end('ok');
    });
  });
  // Bounces every request to the metadata service: a guard that followed redirects would go there.
  redirector = await startHttpServer((_request, response) =>
    response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
  );
  tls = await startHttpsServer(certificate, (_request, response) => {
    received.push({ url: 'tls', body: '' });
    response.end();
  });
});
afterAll(() => Promise.all([receiver?.close(), redirector?.close(), tls?.close()]));

const receivedSince = (mark: number) => received.slice(mark);

describe('the outbound guard', () => {
  it('refuses a loopback literal unless allowed, and reaches it when allowed', async () => {
    const mark = received.length;
    await expect(refusing.request(`${receiver.url}/hook`, { method: 'POST', body: '{}', timeoutMs: 2000 })).rejects.toSatisfy(
      isOutboundRefused,
    );
    expect(receivedSince(mark)).toEqual([]);
    const answer = await loopbackAllowed.request(`${receiver.url}/hook`, { method: 'POST', body: '{"a":1}', timeoutMs: 2000 });
    expect(answer.status).toBe(200);
    expect(receivedSince(mark)).toEqual([{ url: '/hook', body: '{"a":1}' }]);
  });

  it('checks the address a name resolves to, at connect time', async () => {
    const mark = received.length;
    const viaName = `http://localhost:${receiver.port}/named`;
    await expect(refusing.request(viaName, { timeoutMs: 2000 })).rejects.toThrow(/localhost \((127\.0\.0\.1|::1)\) is a loopback address/);
    expect(receivedSince(mark)).toEqual([]);
  });

  it('is not fooled by a name that answers a public address first and loopback when connecting (DNS rebinding)', async () => {
    let asked = 0;
    // The first answer is what a write-time check would have seen; the connection gets the second.
    const rebinding: Resolve = (_hostname, _options, callback) => {
      asked += 1;
      const address: LookupAddress = asked === 1 ? { address: '93.184.215.14', family: 4 } : { address: '127.0.0.1', family: 4 };
      callback(null, [address]);
    };
    const guard = createOutboundGuard(allow(''), rebinding);
    const first = await new Promise<LookupAddress[]>((resolve) =>
      rebinding('rebind.example', { all: true }, (_e, found) => resolve(found)),
    );
    expect(first[0]?.address).toBe('93.184.215.14');
    const mark = received.length;
    await expect(guard.request(`http://rebind.example:${receiver.port}/`, { timeoutMs: 2000 })).rejects.toThrow(
      /rebind\.example \(127\.0\.0\.1\) is a loopback address/,
    );
    expect(asked).toBe(2);
    expect(receivedSince(mark)).toEqual([]);
  });

  it('refuses a name answering one public and one internal address', async () => {
    const mixed: Resolve = (_hostname, _options, callback) =>
      callback(null, [
        { address: '93.184.215.14', family: 4 },
        { address: '10.0.0.8', family: 4 },
      ]);
    await expect(createOutboundGuard(allow(''), mixed).request('http://mixed.example/', { timeoutMs: 2000 })).rejects.toThrow(
      /10\.0\.0\.8/,
    );
  });

  it('never follows a redirect: the redirect itself is the answer', async () => {
    const answer = await loopbackAllowed.request(redirector.url, { timeoutMs: 2000 });
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('http://169.254.169.254/latest/meta-data/');
  });

  it('refuses the metadata service and non-HTTP schemes outright', async () => {
    const everything = createOutboundGuard(allow('*.example,10.0.0.0/8'));
    await expect(everything.request('http://169.254.169.254/latest/meta-data/', { timeoutMs: 2000 })).rejects.toThrow(/metadata/);
    await expect(everything.request('http://[fd00:ec2::254]/', { timeoutMs: 2000 })).rejects.toThrow(/metadata/);
    await expect(everything.request('file:///etc/passwd', { timeoutMs: 2000 })).rejects.toSatisfy(isOutboundRefused);
  });
});

describe('outbound calls go through it', () => {
  const message: OutboundMessage = {
    deliveryId: 'd-1',
    notificationId: 'n-1',
    subject: { type: 'incident', id: 'i-1' },
    taskId: null,
    link: 'https://warden.example/incidents/i-1',
    text: { subject: 'Incident', body: 'Something happened' },
  };
  const notifier = (guard: OutboundGuard) => createNotifier({ mailFrom: 'w@example', routes: {} }, new Map(), guard);

  it('notification webhooks and Slack', async () => {
    const mark = received.length;
    await expect(notifier(refusing).deliver({ channel: 'webhook', target: `${receiver.url}/webhook` }, message)).rejects.toThrow(
      /loopback/,
    );
    await expect(notifier(refusing).deliver({ channel: 'slack', target: `${receiver.url}/slack` }, message)).rejects.toThrow(/loopback/);
    expect(receivedSince(mark)).toEqual([]);
    await notifier(loopbackAllowed).deliver({ channel: 'webhook', target: `${receiver.url}/webhook` }, message);
    await notifier(loopbackAllowed).deliver({ channel: 'slack', target: `${receiver.url}/slack` }, message);
    expect(receivedSince(mark).map((r) => r.url)).toEqual(['/webhook', '/slack']);
  });

  it('responders and provisioning webhooks: a refused URL is a final "not called", not a retry', async () => {
    const mark = received.length;
    const call = (outbound: OutboundGuard) =>
      postSignedAction(`${receiver.url}/contain`, {
        actionId: 'a-1',
        payload: { x: 1 },
        secret: 'secret-of-16-chars',
        receiver: 'responder',
        outbound,
      });
    expect(await call(refusing)).toEqual({
      ok: false,
      accepted: false,
      detail: expect.stringMatching(/^responder not called: 127\.0\.0\.1 is a loopback address/),
    });
    expect(receivedSince(mark)).toEqual([]);
    expect(await call(loopbackAllowed)).toEqual({ ok: true, accepted: false, detail: 'responder answered 200' });
    expect(receivedSince(mark)).toEqual([{ url: '/contain', body: '{"x":1}' }]);
  });
});

describe('security checks go through it', () => {
  const context = (outbound: OutboundGuard, cis: { name: string; attributes: Record<string, unknown> }[] = []): CheckContext => ({
    commandChecksEnabled: false,
    parseParams: parseCheckParams,
    outbound,
    recorded: recordedTargets(cis),
  });
  // A CI may record 127.0.0.1: the target rule passes, the address rule still refuses loopback.
  const loopbackCi = [{ name: 'loopback-box', attributes: { addresses: ['127.0.0.1'], hosts: ['rebind.example'] } }];

  it.each([
    ['http_security_headers', () => ({ url: receiver.url }), /url: 127\.0\.0\.1 is a loopback address/],
    ['http_requires_auth', () => ({ url: `${receiver.url}/admin`, method: 'DELETE' }), /url: 127\.0\.0\.1 is a loopback address/],
    ['tcp_port', () => ({ host: '127.0.0.1', port: receiver.port, expect: 'open' }), /host: 127\.0\.0\.1 is a loopback address/],
    ['tls_certificate', () => ({ host: '127.0.0.1', port: tls.port }), /host: 127\.0\.0\.1 is a loopback address/],
    ['dns_record', () => ({ name: 'example.org', type: 'A', servers: ['127.0.0.53'] }), /servers\.0: 127\.0\.0\.53 is a loopback address/],
  ])('%s refuses a loopback target unless allowed: not runnable, nothing sent', async (type, params, message) => {
    const mark = received.length;
    const refused = runCheck(type, params(), context(refusing, loopbackCi));
    await expect(refused).rejects.toBeInstanceOf(CheckNotRunnable);
    await expect(refused).rejects.toThrow(message);
    expect(receivedSince(mark)).toEqual([]);
  });

  it('runs against a target the allowlist admits', async () => {
    const outcome = await runCheck('http_requires_auth', { url: `${receiver.url}/admin`, method: 'DELETE' }, context(loopbackAllowed));
    expect(outcome).toMatchObject({ passed: true, evidence: { status: 401 } });
    expect((await runCheck('tcp_port', { host: '127.0.0.1', port: receiver.port, expect: 'open' }, context(loopbackAllowed))).passed).toBe(
      true,
    );
  });

  it('refuses a target no CI records and the allowlist does not admit', async () => {
    await expect(runCheck('tcp_port', { host: '203.0.113.9', port: 22, expect: 'closed' }, context(refusing))).rejects.toThrow(
      /host: 203\.0\.113\.9 is not an address recorded on the control's CIs/,
    );
    await expect(runCheck('http_security_headers', { url: 'https://elsewhere.example/' }, context(refusing))).rejects.toThrow(
      /url: elsewhere\.example is not a host recorded/,
    );
  });

  it('checks the resolved address of a recorded name when connecting (tcp_port)', async () => {
    const rebinding: Resolve = (_hostname, _options, callback) => callback(null, [{ address: '127.0.0.1', family: 4 }]);
    const mark = received.length;
    await expect(
      runCheck(
        'tcp_port',
        { host: 'rebind.example', port: receiver.port, expect: 'open' },
        context(createOutboundGuard(allow(''), rebinding), loopbackCi),
      ),
    ).rejects.toThrow(/host: rebind\.example \(127\.0\.0\.1\) is a loopback address/);
    expect(receivedSince(mark)).toEqual([]);
  });
});
