import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Kysely } from 'kysely';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../config';
import type { Database } from '../../db/database';
import { connectionOptions, connectTemporalClient } from '../../temporal/connection';
import { configuredTemporalAddress, temporalSettings } from '../../wiring';
import { createWardenWorker } from '../../worker';

// `temporal server start-dev` (CLI v1.5.1) has no TLS flags, so the secured connection is proven at
// the options Warden hands to Connection.connect (the API's client) and NativeConnection.connect (the
// worker), for each way of configuring it, and at the refusals naming the variable to fix.

const dir = mkdtempSync(path.join(tmpdir(), 'warden-temporal-connection-'));
function file(name: string, text: string): string {
  const target = path.join(dir, name);
  writeFileSync(target, text);
  return target;
}
const pemText = (label: string) => `-----BEGIN ${label}-----\nMIIB${label.length}\n-----END ${label}-----\n`;
const ca = file('ca.pem', pemText('CERTIFICATE'));
const cert = file('client.pem', pemText('CERTIFICATE'));
const key = file('client.key', pemText('PRIVATE KEY'));
const bytes = (target: string) => Uint8Array.from(readFileSync(target));
const codecKeys = 'k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=';

function settingsFor(env: Record<string, string>) {
  return temporalSettings(loadConfig({ WARDEN_CODEC_KEYS: codecKeys, ...env }), 'for the test');
}
function optionsFor(env: Record<string, string>) {
  return connectionOptions(settingsFor(env));
}
function refusal(env: Record<string, string>): string {
  try {
    settingsFor(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the connection options for each configuration', () => {
  it('stays plaintext with only TEMPORAL_ADDRESS, as the local run and the dev server need', () => {
    expect(optionsFor({ TEMPORAL_ADDRESS: '127.0.0.1:7233' })).toEqual({ address: '127.0.0.1:7233' });
    expect(settingsFor({ TEMPORAL_ADDRESS: '127.0.0.1:7233' }).namespace).toBe('default');
  });

  it('turns TLS on with the system CAs for TEMPORAL_TLS=true', () => {
    expect(optionsFor({ TEMPORAL_ADDRESS: 'temporal.example:7233', TEMPORAL_TLS: 'true' })).toEqual({
      address: 'temporal.example:7233',
      tls: { serverNameOverride: undefined, serverRootCACertificate: undefined, clientCertPair: undefined },
    });
  });

  it('verifies the server with a private CA and server name', () => {
    const options = optionsFor({
      TEMPORAL_ADDRESS: '10.0.0.5:7233',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    expect(options.tls).toEqual({ serverNameOverride: 'temporal.internal', serverRootCACertificate: bytes(ca), clientCertPair: undefined });
  });

  it('presents a client certificate and key for mTLS', () => {
    const options = optionsFor({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
    });
    expect(options.tls).toMatchObject({ serverRootCACertificate: bytes(ca), clientCertPair: { crt: bytes(cert), key: bytes(key) } });
    expect(options.apiKey).toBeUndefined();
  });

  it('sends an API key over TLS (Temporal Cloud), and over plaintext only when TEMPORAL_TLS=false says so', () => {
    const cloud = {
      TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'warden.a1b2c',
      TEMPORAL_API_KEY: 'secret-key',
    };
    expect(optionsFor(cloud)).toEqual({ address: cloud.TEMPORAL_ADDRESS, apiKey: 'secret-key', tls: true });
    expect(settingsFor(cloud).namespace).toBe('warden.a1b2c');
    expect(optionsFor({ ...cloud, TEMPORAL_TLS: 'false' })).toEqual({ address: cloud.TEMPORAL_ADDRESS, apiKey: 'secret-key', tls: false });
  });

  it('reads a TOML profile from TEMPORAL_CONFIG_FILE, and the variables override it', () => {
    const toml = file(
      'temporal.toml',
      [
        '[profile.default]',
        'address = "default.example:7233"',
        '[profile.prod]',
        'address = "prod.example:7233"',
        'namespace = "security-prod"',
        'api_key = "profile-key"',
        '[profile.prod.tls]',
        `server_ca_cert_path = "${ca}"`,
        'server_name = "prod.internal"',
        `client_cert_path = "${cert}"`,
        `client_key_path = "${key}"`,
        '[profile.prod.grpc_meta]',
        'x-tenant = "sec"',
        '',
      ].join('\n'),
    );
    expect(optionsFor({ TEMPORAL_CONFIG_FILE: toml })).toEqual({ address: 'default.example:7233' });
    const prod = settingsFor({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
    expect(prod.namespace).toBe('security-prod');
    expect(connectionOptions(prod)).toEqual({
      address: 'prod.example:7233',
      apiKey: 'profile-key',
      metadata: { 'x-tenant': 'sec' },
      tls: {
        serverNameOverride: 'prod.internal',
        serverRootCACertificate: bytes(ca),
        clientCertPair: { crt: bytes(cert), key: bytes(key) },
      },
    });
    const overridden = settingsFor({
      TEMPORAL_CONFIG_FILE: toml,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_ADDRESS: 'other.example:7233',
      TEMPORAL_NAMESPACE: 'other',
      TEMPORAL_TLS_SERVER_NAME: 'other.internal',
    });
    expect(overridden).toMatchObject({ address: 'other.example:7233', namespace: 'other', tls: { serverNameOverride: 'other.internal' } });
    // `warden start` runs its own dev server only when neither the variables nor the profile name a Temporal.
    expect(configuredTemporalAddress(loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' }))).toBe('prod.example:7233');
    expect(configuredTemporalAddress(loadConfig({}))).toBeUndefined();
  });

  it('hands the options to Connection.connect for the API, keeping the deadline and retry interceptor', async () => {
    const connect = vi.spyOn(Connection, 'connect').mockRejectedValue(new Error('not connecting in a unit test'));
    const settings = settingsFor({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
    });
    await expect(connectTemporalClient(settings)).rejects.toThrow('not connecting');
    const given = connect.mock.calls[0]?.[0];
    expect(given).toMatchObject({ address: 'temporal.internal:7233', tls: { clientCertPair: { crt: bytes(cert), key: bytes(key) } } });
    expect(given?.interceptors).toHaveLength(1);
  });

  it('hands the same options to NativeConnection.connect for the worker', async () => {
    const fake = { close: async () => {} } as unknown as NativeConnection;
    const connect = vi.spyOn(NativeConnection, 'connect').mockResolvedValue(fake);
    vi.spyOn(Worker, 'create').mockRejectedValue(new Error('no worker in a unit test'));
    const config = loadConfig({
      WARDEN_CODEC_KEYS: codecKeys,
      TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
      TEMPORAL_API_KEY: 'secret-key',
      TEMPORAL_TLS_SERVER_NAME: 'cloud.internal',
    });
    await expect(
      createWardenWorker({ config, db: {} as Kysely<Database>, logger: pino({ level: 'silent' }), workflowBundlePath: '/nonexistent' }),
    ).rejects.toThrow('no worker');
    expect(connect.mock.calls[0]?.[0]).toEqual({
      address: 'eu-west-1.aws.api.temporal.io:7233',
      apiKey: 'secret-key',
      tls: { serverNameOverride: 'cloud.internal', serverRootCACertificate: undefined, clientCertPair: undefined },
    });
  });
});

describe('refusals name the variable to fix', () => {
  const configError = (env: Record<string, string>) => {
    try {
      loadConfig({ TEMPORAL_ADDRESS: 'temporal.internal:7233', ...env });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('the configuration was accepted');
  };

  it('refuses an unreadable or non-PEM certificate file', () => {
    expect(configError({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing.pem') })).toContain(
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH: must name a readable PEM file',
    );
    expect(configError({ TEMPORAL_TLS_CLIENT_CERT_PATH: file('not-pem.txt', 'hello'), TEMPORAL_TLS_CLIENT_KEY_PATH: key })).toContain(
      'TEMPORAL_TLS_CLIENT_CERT_PATH: must name a readable PEM file',
    );
  });

  it('refuses a key without its certificate, and a certificate without its key', () => {
    expect(configError({ TEMPORAL_TLS_CLIENT_KEY_PATH: key })).toMatch(/TEMPORAL_TLS_CLIENT_CERT_PATH: must be set with the client key/);
    expect(configError({ TEMPORAL_TLS_CLIENT_CERT_PATH: cert })).toMatch(
      /TEMPORAL_TLS_CLIENT_KEY_PATH: must be set with the client certificate/,
    );
  });

  it('refuses TLS files with TEMPORAL_TLS=false, and a TEMPORAL_TLS that is not a boolean', () => {
    expect(configError({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca })).toContain(
      'TEMPORAL_TLS: is false, but TEMPORAL_TLS_SERVER_CA_CERT_PATH is set',
    );
    expect(configError({ TEMPORAL_TLS: 'maybe' })).toMatch(/TEMPORAL_TLS: /);
  });

  it('refuses a missing config file, a profile not in it, a profile without a file, and a broken file', () => {
    expect(configError({ TEMPORAL_CONFIG_FILE: path.join(dir, 'absent.toml') })).toContain(
      'TEMPORAL_CONFIG_FILE: must name a readable TOML file',
    );
    const toml = file('one.toml', '[profile.default]\naddress = "a.example:7233"\n');
    expect(configError({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' })).toContain('TEMPORAL_PROFILE: no such profile');
    expect(configError({ TEMPORAL_PROFILE: 'staging' })).toContain('TEMPORAL_PROFILE: needs TEMPORAL_CONFIG_FILE');
    expect(configError({ TEMPORAL_CONFIG_FILE: file('broken.toml', '[profile.default\naddress = ') })).toContain(
      'TEMPORAL_CONFIG_FILE: is not a valid Temporal client configuration',
    );
    expect(configError({ TEMPORAL_CONFIG_FILE: file('typo.toml', '[profile.default]\nadress = "a.example:7233"\n') })).toContain(
      'TEMPORAL_CONFIG_FILE: is not a valid Temporal client configuration',
    );
  });

  it("refuses a profile whose certificate is missing or lacks its key, naming the file's field", () => {
    const missing = file('missing-ca.toml', `[profile.default.tls]\nserver_ca_cert_path = "${path.join(dir, 'gone.pem')}"\n`);
    expect(configError({ TEMPORAL_CONFIG_FILE: missing })).toContain("TEMPORAL_CONFIG_FILE: its profile's tls.server_ca_cert_path");
    const half = file('half.toml', `[profile.default.tls]\nclient_cert_path = "${cert}"\n`);
    expect(configError({ TEMPORAL_CONFIG_FILE: half })).toMatch(
      /TEMPORAL_TLS_CLIENT_KEY_PATH: .*tls\.client_key_path in the TEMPORAL_CONFIG_FILE profile/,
    );
  });

  it('refuses to start the API or worker with no address anywhere, naming TEMPORAL_ADDRESS', () => {
    expect(refusal({})).toMatch(/^TEMPORAL_ADDRESS \(or an address in the TEMPORAL_CONFIG_FILE profile\) must be set for the test/);
  });
});
