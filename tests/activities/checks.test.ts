import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckNotRunnable, runCheck, type CheckContext } from '../../activities/checks/index';
import { createOutboundGuard } from '../../activities/outbound';
import { parseAllowlist, type OutboundAllowlist } from '../../domain/outbound';
import { parseCheckParams } from '../../schemas/security-checks';
import {
  closedPort,
  hardenedHeaders,
  selfSignedCertificate,
  startHttpServer,
  startHttpsServer,
  type LoopbackServer,
} from '../setup/loopback';

// The servers under test listen on loopback, which checks reach only when the allowlist says so.
const loopback = (parseAllowlist('127.0.0.0/8,::1') as { allowlist: OutboundAllowlist }).allowlist;
const context: CheckContext = {
  commandChecksEnabled: false,
  parseParams: parseCheckParams,
  outbound: createOutboundGuard(loopback),
  recorded: { names: [], networks: [] },
};
const servers: LoopbackServer[] = [];
let hardened: LoopbackServer;
let bare: LoopbackServer;
let tls: LoopbackServer;
const certificate = selfSignedCertificate(2);

beforeAll(async () => {
  hardened = await startHttpServer((request, response) => {
    response.writeHead(request.headers.authorization ? 200 : 401, { ...hardenedHeaders, 'www-authenticate': 'Bearer' }).end();
  });
  bare = await startHttpServer((_request, response) => response.writeHead(200, { 'x-powered-by': 'Express' }).end('welcome'));
  tls = await startHttpsServer(certificate);
  servers.push(hardened, bare, tls);
});
afterAll(() => Promise.all(servers.map((server) => server.close())));

describe('http_security_headers', () => {
  it('passes a server that sends every header', async () => {
    const outcome = await runCheck('http_security_headers', { url: hardened.url }, context);
    expect(outcome.passed).toBe(true);
    expect(outcome.evidence.present).toMatchObject({ 'x-frame-options': 'DENY' });
  });

  it('fails a server without them, naming what is missing and what is disclosed', async () => {
    const outcome = await runCheck('http_security_headers', { url: bare.url }, context);
    expect(outcome.passed).toBe(false);
    expect(outcome.evidence.missing).toEqual([
      'strict-transport-security',
      'content-security-policy',
      'x-content-type-options',
      'x-frame-options',
      'referrer-policy',
    ]);
    expect(outcome.evidence.disclosed).toEqual({ 'x-powered-by': 'Express' });
  });

  it('fails when nothing answers', async () => {
    const outcome = await runCheck('http_security_headers', { url: `http://127.0.0.1:${await closedPort()}/` }, context);
    expect(outcome).toMatchObject({ passed: false, evidence: { error: 'ECONNREFUSED' } });
  });
});

describe('http_requires_auth', () => {
  it('passes an endpoint that answers 401 without credentials', async () => {
    const outcome = await runCheck('http_requires_auth', { url: `${hardened.url}/admin` }, context);
    expect(outcome).toMatchObject({ passed: true, evidence: { status: 401, wwwAuthenticate: 'Bearer' } });
  });

  it('fails an endpoint that serves anyone', async () => {
    const outcome = await runCheck('http_requires_auth', { url: `${bare.url}/admin` }, context);
    expect(outcome).toMatchObject({ passed: false, evidence: { status: 200 } });
  });
});

describe('tls_certificate', () => {
  it('passes a trusted certificate valid for longer than required', async () => {
    const outcome = await runCheck(
      'tls_certificate',
      { host: '127.0.0.1', port: tls.port, servername: 'localhost', ca: certificate.cert, minDaysValid: 1 },
      context,
    );
    expect(outcome.passed).toBe(true);
    expect(outcome.evidence).toMatchObject({ subject: 'localhost', trusted: true, daysRemaining: 1 });
  });

  it('fails a certificate that expires within the required days', async () => {
    const outcome = await runCheck(
      'tls_certificate',
      { host: '127.0.0.1', port: tls.port, servername: 'localhost', ca: certificate.cert, minDaysValid: 14 },
      context,
    );
    expect(outcome.passed).toBe(false);
    expect(outcome.summary).toContain('expires in 1 days, less than 14');
  });

  it('fails a self-signed certificate nobody trusts', async () => {
    const outcome = await runCheck(
      'tls_certificate',
      { host: '127.0.0.1', port: tls.port, servername: 'localhost', minDaysValid: 0 },
      context,
    );
    expect(outcome).toMatchObject({ passed: false, evidence: { trusted: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT' } });
  });

  it('fails a certificate for another name', async () => {
    const outcome = await runCheck(
      'tls_certificate',
      { host: '127.0.0.1', port: tls.port, servername: 'intranet.example', ca: certificate.cert, minDaysValid: 0 },
      context,
    );
    expect(outcome).toMatchObject({ passed: false, evidence: { trusted: false } });
    expect(outcome.evidence.authorizationError).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|Hostname/);
  });
});

describe('tcp_port', () => {
  it('sees a listening port as open and a free one as closed', async () => {
    const port = await closedPort();
    expect((await runCheck('tcp_port', { host: '127.0.0.1', port: hardened.port, expect: 'open' }, context)).passed).toBe(true);
    expect((await runCheck('tcp_port', { host: '127.0.0.1', port, expect: 'closed' }, context)).passed).toBe(true);
    const exposed = await runCheck('tcp_port', { host: '127.0.0.1', port: hardened.port, expect: 'closed' }, context);
    expect(exposed).toMatchObject({ passed: false, evidence: { state: 'open' } });
  });
});

describe('dns_record', () => {
  it('finds localhost the way applications resolve it', async () => {
    const outcome = await runCheck('dns_record', { name: 'localhost', type: 'A', resolver: 'system', expect: ['127.0.0.1'] }, context);
    expect(outcome).toMatchObject({ passed: true, evidence: { answers: ['127.0.0.1'] } });
  });

  it('fails a name that does not exist', async () => {
    const outcome = await runCheck('dns_record', { name: 'no-such-host.invalid', type: 'A', resolver: 'system' }, context);
    expect(outcome).toMatchObject({ passed: false, evidence: { error: 'ENOTFOUND' } });
  });

  it('fails when an expected value is not among the answers', async () => {
    const outcome = await runCheck('dns_record', { name: 'localhost', type: 'A', resolver: 'system', expect: ['10.0.0.1'] }, context);
    expect(outcome).toMatchObject({ passed: false, evidence: { missing: ['10.0.0.1'] } });
  });
});

describe('command', () => {
  it('refuses to run unless enabled', async () => {
    await expect(runCheck('command', { executable: 'true' }, context)).rejects.toBeInstanceOf(CheckNotRunnable);
  });

  it('lets the exit code decide once enabled', async () => {
    const enabled = { ...context, commandChecksEnabled: true };
    expect((await runCheck('command', { executable: process.execPath, args: ['-e', 'process.exit(0)'] }, enabled)).passed).toBe(true);
    const failing = await runCheck(
      'command',
      { executable: process.execPath, args: ['-e', 'console.error("drift"); process.exit(3)'] },
      enabled,
    );
    expect(failing).toMatchObject({ passed: false, evidence: { exitCode: 3, stderr: 'drift\n' } });
  });
});

describe('parameters', () => {
  it('refuses an unknown check type and invalid parameters without running anything', async () => {
    await expect(runCheck('port_knock', {}, context)).rejects.toThrow(/unknown check type/);
    await expect(runCheck('tcp_port', { host: '127.0.0.1', port: 70000, expect: 'open' }, context)).rejects.toThrow(
      /invalid tcp_port parameters/,
    );
  });
});
