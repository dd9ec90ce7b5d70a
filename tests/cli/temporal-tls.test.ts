import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../config';
import { connectionOptions, connectTemporalClient } from '../../temporal/connection';
import { temporalSettings } from '../../wiring';
import { certificateMaker } from '../setup/certificates';

// `temporal server start-dev` has no TLS flags, so this test puts what a secured cluster's frontend
// does in front of it: a TLS listener that requires a client certificate signed by its CA (mTLS),
// then relays the decrypted HTTP/2 to the dev server. The API's client (Connection) and the worker's
// connection (NativeConnection, the Rust core) get the options Warden builds from TEMPORAL_TLS_*.

const dir = mkdtempSync(path.join(tmpdir(), 'warden-temporal-tls-'));
const certificates = certificateMaker(dir);
const { at } = certificates;
const makeCa = certificates.ca;
const makeLeaf = certificates.leaf;

let proxy: tls.Server;
let address = '';
/** Why the frontend refused each connection: the refusals below must be TLS's, not some other failure's. */
const refusals: string[] = [];
const codecKeys = 'k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';

beforeAll(async () => {
  makeCa('cluster-ca');
  makeCa('other-ca');
  makeLeaf('frontend', 'cluster-ca', 'subjectAltName=DNS:temporal.test\nextendedKeyUsage=serverAuth');
  makeLeaf('warden', 'cluster-ca', 'extendedKeyUsage=clientAuth');
  makeLeaf('intruder', 'other-ca', 'extendedKeyUsage=clientAuth');
  const [devHost, devPort] = inject('temporalAddress').split(':');
  proxy = tls.createServer(
    {
      key: readFileSync(at('frontend.key')),
      cert: readFileSync(at('frontend.pem')),
      ca: readFileSync(at('cluster-ca.pem')),
      requestCert: true,
      // Checked below instead, so that the reason for each refusal is on record.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      if (!socket.authorized) {
        refusals.push(`client certificate refused: ${String(socket.authorizationError)}`);
        socket.destroy();
        return;
      }
      const upstream = net.connect(Number(devPort), devHost === 'localhost' ? '127.0.0.1' : devHost);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  proxy.on('tlsClientError', (error) => refusals.push(error.message));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
});

function settings(env: Record<string, string>) {
  return temporalSettings(loadConfig({ TEMPORAL_ADDRESS: address, WARDEN_CODEC_KEYS: codecKeys, ...env }), 'for the test');
}
/** The API's client is refused: grpc-js reports only that it never connected, so the frontend must have seen the handshake fail. */
async function expectApiRefused(env: Record<string, string>): Promise<void> {
  const before = refusals.length;
  await expect(connectTemporalClient(settings(env))).rejects.toThrow(/Failed to connect before the deadline/);
  expect(refusals.length).toBeGreaterThan(before);
}
/** The worker's connection (the Rust core) is refused, and says why. */
async function expectWorkerRefused(env: Record<string, string>, why: RegExp): Promise<void> {
  await expect(NativeConnection.connect(connectionOptions(settings(env)))).rejects.toThrow(why);
}
/**
 * The frontend refuses the client's certificate: the client may see the alert or only a closed
 * stream (a race), so the frontend's own reason is what is checked.
 */
async function expectCertificateRefused(env: Record<string, string>): Promise<void> {
  for (const connect of [() => connectTemporalClient(settings(env)), () => NativeConnection.connect(connectionOptions(settings(env)))]) {
    const before = refusals.length;
    await expect(connect()).rejects.toThrow();
    expect(refusals.slice(before).join('\n')).toMatch(
      /client certificate refused: (UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/,
    );
  }
}

const mtls = () => ({
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: at('cluster-ca.pem'),
  TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
  TEMPORAL_TLS_CLIENT_CERT_PATH: at('warden.pem'),
  TEMPORAL_TLS_CLIENT_KEY_PATH: at('warden.key'),
});

describe('a Warden client and worker behind mTLS', () => {
  it('connect with the cluster CA, the server name and a client certificate the cluster signed', async () => {
    const api = await connectTemporalClient(settings(mtls()));
    try {
      const info = await api.client.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await api.close();
    }
    const worker = await NativeConnection.connect(connectionOptions(settings(mtls())));
    try {
      const info = await worker.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await worker.close();
    }
    expect(refusals).toEqual([]);
  }, 60_000);

  it('are refused without a client certificate', async () => {
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _cert, TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...serverOnly } = mtls();
    await expectCertificateRefused(serverOnly);
  }, 60_000);

  it('are refused with a client certificate from another CA', async () => {
    const intruder = { ...mtls(), TEMPORAL_TLS_CLIENT_CERT_PATH: at('intruder.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: at('intruder.key') };
    await expectCertificateRefused(intruder);
  }, 60_000);

  it('refuse a server their CA did not sign, or one under another name', async () => {
    const wrongCa = { ...mtls(), TEMPORAL_TLS_SERVER_CA_CERT_PATH: at('other-ca.pem') };
    await expectApiRefused(wrongCa);
    await expectWorkerRefused(wrongCa, /InvalidCertificate\(UnknownIssuer\)/);
    const wrongName = { ...mtls(), TEMPORAL_TLS_SERVER_NAME: 'elsewhere.test' };
    await expectApiRefused(wrongName);
    await expectWorkerRefused(wrongName, /NotValidForName/);
  }, 60_000);

  it('cannot talk plaintext to it (TLS off, as before this change)', async () => {
    await expectApiRefused({});
  }, 60_000);
});
