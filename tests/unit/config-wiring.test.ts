import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import pino from 'pino';
import { expect, it } from 'vitest';
import { requireServiceSettings } from '../../cli/services';
import { type Config, configSchema, loadConfig } from '../../config';
import type { Database } from '../../db/database';
import type { TemporalSettings } from '../../temporal/connection';
import type { TLSConfig } from '@temporalio/client';
import {
  activityDeps,
  auditCheckpointSettings,
  credentialCacheSettings,
  notifierSettings,
  temporalSettings,
  workerConcurrency,
} from '../../wiring';

// Every variable config.ts reads must reach the code that uses it. Settings that are translated
// (into the activities' dependencies, the Temporal connection) are checked at the output of the one
// wiring every process uses; settings a component reads from the whole Config itself are checked in
// that component's source. A new variable with neither fails here, so it cannot be parsed,
// documented and then dropped on the way (as WARDEN_COMMAND_CHECKS_ENABLED once was).

// The Temporal connection's files: a TOML profile and PEM files (their contents need only look like PEM here).
const files = mkdtempSync(path.join(tmpdir(), 'warden-config-wiring-'));
const pem = (name: string) => {
  const file = path.join(files, name);
  writeFileSync(file, `-----BEGIN ${name}-----\nMIIB\n-----END ${name}-----\n`);
  return file;
};
const temporalToml = path.join(files, 'temporal.toml');
writeFileSync(
  temporalToml,
  [
    '[profile.default.grpc_meta]',
    'x-profile = "default"',
    '[profile.security]',
    'address = "profile.example:7233"',
    '[profile.security.grpc_meta]',
    'x-profile = "security"',
    '',
  ].join('\n'),
);

const env: Record<keyof Config, string> = {
  DATABASE_URL: 'postgres://warden@db.example:5432/warden',
  TEMPORAL_ADDRESS: 'temporal.example:7233',
  TEMPORAL_NAMESPACE: 'security',
  TEMPORAL_TASK_QUEUE: 'warden-queue',
  TEMPORAL_CONFIG_FILE: temporalToml,
  TEMPORAL_PROFILE: 'security',
  TEMPORAL_API_KEY: 'an-api-key',
  TEMPORAL_TLS: 'true',
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('CA'),
  TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
  TEMPORAL_TLS_CLIENT_CERT_PATH: pem('CERTIFICATE'),
  TEMPORAL_TLS_CLIENT_KEY_PATH: pem('KEY'),
  TEMPORAL_CLI: '/opt/temporal',
  HOST: '0.0.0.0',
  PORT: '8443',
  WARDEN_DATA_DIR: '/var/lib/warden',
  WARDEN_ADMIN_TOKEN: 'an-admin-token-of-enough-length',
  WARDEN_CODEC_KEYS: 'k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
  WARDEN_PUBLIC_URL: 'https://warden.example',
  WARDEN_TEMPORAL_UI_ORIGIN: 'https://temporal-ui.example',
  WARDEN_TEMPORAL_UI_UPSTREAM: 'http://127.0.0.1:8233',
  WARDEN_RESPONDER_URL: 'https://soar.example/actions',
  WARDEN_RESPONDER_SECRET: 'responder-secret-123',
  WARDEN_RESPONDER_CALLBACK_WAIT: '20m',
  WARDEN_CONTAINMENT_CONFIRM_DEADLINE: '2h',
  WARDEN_FAILED_ACTION_ESCALATION_INTERVAL: '30m',
  WARDEN_FAILED_ACTION_ESCALATIONS: '6',
  WARDEN_PROVISIONING_SECRET: 'provisioning-secret-1',
  WARDEN_BODY_LIMIT_BYTES: '65536',
  WARDEN_RATE_LIMIT_PER_MINUTE: '77',
  WARDEN_AUTH_CACHE_TTL: '3s',
  WARDEN_AUTH_CACHE_ENTRIES: '500',
  WARDEN_API_DB_POOL_SIZE: '7',
  WARDEN_WORKER_DB_POOL_SIZE: '12',
  WARDEN_TRUST_PROXY: '10.0.0.0/8,192.168.1.1',
  WARDEN_COMMAND_CHECKS_ENABLED: 'true',
  WARDEN_SMTP_URL: 'smtp://mail.example:25',
  WARDEN_MAIL_FROM: 'Security <security@example.org>',
  WARDEN_WEBHOOK_SECRET: 'webhook-secret-12345',
  WARDEN_NOTIFY_ROUTES: '{"security_manager":[{"channel":"email","target":"sec@example.org"}]}',
  WARDEN_WORKER_METRICS_ADDRESS: '0.0.0.0:9464',
  WARDEN_CALLBACK_ALLOWED_ORIGINS: 'https://itsm.example',
  WARDEN_CALLBACK_SECRET: 'callback-secret-of-24-chars',
  WARDEN_CHANGE_REVIEW_LIMIT: '3d',
  WARDEN_ACCESS_APPROVAL_DEADLINE: '2d',
  WARDEN_SLA_MIN_TARGET: '10m',
  WARDEN_CORRELATION_WINDOW: '12h',
  WARDEN_CORRELATION_TYPES: 'account,ip',
  WARDEN_ALERT_BURST_THRESHOLD: '3',
  WARDEN_ALERT_BURST_WINDOW: '10m',
  WARDEN_ATTACK_BUNDLE_LIMIT_BYTES: '2097152',
  WARDEN_IMPORT_LIMIT_BYTES: '8388608',
  WARDEN_JIRA_FIELDS: 'plannedStart=customfield_10001',
  WARDEN_OUTBOUND_ALLOW: '10.20.0.0/16,*.corp.example',
  WARDEN_TEST_INTERVAL_FLOOR: '5m',
  WARDEN_AUDIT_SIGNING_KEY: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=',
  WARDEN_AUDIT_VERIFY_KEY: '/RckOFqgx1tk+3jNYC+h2ZH96/drE8WO1wLqyDXp9hg=',
  WARDEN_AUDIT_CHECKPOINT_INTERVAL: '15m',
  WARDEN_OIDC_ISSUER: 'https://idp.example/realms/warden',
  WARDEN_OIDC_CLIENT_ID: 'warden',
  WARDEN_OIDC_CLIENT_SECRET: 'an-oidc-client-secret',
  WARDEN_OIDC_ROLE_CLAIM: 'roles',
  WARDEN_OIDC_ROLE_MAP: 'soc=security_analyst,soc=tester,audit=auditor',
  LOG_LEVEL: 'warn',
};

const config = loadConfig(env);
const deps = activityDeps(config, { db: {} as Kysely<Database>, logger: pino({ level: 'silent' }), workerIdentity: 'probe' });
const temporal = temporalSettings(config, 'for the probe');
const notifier = notifierSettings(config);

function tlsOf(settings: TemporalSettings): TLSConfig {
  return typeof settings.tls === 'object' ? settings.tls : {};
}
function bytes(file: string): Uint8Array {
  return Uint8Array.from(readFileSync(file));
}

/** A translated setting: the value its consumer receives, to compare with what was set. */
type Wired = { wired: () => unknown; expected: unknown };
/** A setting its consumer reads from the whole Config: the file that reads it. */
type ReadIn = { readIn: string };

const reaches: Record<keyof Config, Wired | ReadIn> = {
  DATABASE_URL: { wired: () => requireServiceSettings(config, 'api').databaseUrl, expected: env.DATABASE_URL },
  TEMPORAL_ADDRESS: { wired: () => temporal.address, expected: env.TEMPORAL_ADDRESS },
  TEMPORAL_NAMESPACE: { wired: () => temporal.namespace, expected: env.TEMPORAL_NAMESPACE },
  TEMPORAL_TASK_QUEUE: { wired: () => temporal.taskQueue, expected: env.TEMPORAL_TASK_QUEUE },
  TEMPORAL_CONFIG_FILE: { wired: () => temporal.metadata?.['x-profile'] !== undefined, expected: true },
  TEMPORAL_PROFILE: { wired: () => temporal.metadata, expected: { 'x-profile': 'security' } },
  TEMPORAL_API_KEY: { wired: () => temporal.apiKey, expected: env.TEMPORAL_API_KEY },
  TEMPORAL_TLS: { wired: () => typeof temporal.tls, expected: 'object' },
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: {
    wired: () => tlsOf(temporal).serverRootCACertificate,
    expected: bytes(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH),
  },
  TEMPORAL_TLS_SERVER_NAME: { wired: () => tlsOf(temporal).serverNameOverride, expected: env.TEMPORAL_TLS_SERVER_NAME },
  TEMPORAL_TLS_CLIENT_CERT_PATH: { wired: () => tlsOf(temporal).clientCertPair?.crt, expected: bytes(env.TEMPORAL_TLS_CLIENT_CERT_PATH) },
  TEMPORAL_TLS_CLIENT_KEY_PATH: { wired: () => tlsOf(temporal).clientCertPair?.key, expected: bytes(env.TEMPORAL_TLS_CLIENT_KEY_PATH) },
  TEMPORAL_CLI: { readIn: 'cli/temporal-cli.ts' },
  HOST: { readIn: 'cli/services.ts' },
  PORT: { readIn: 'cli/services.ts' },
  WARDEN_DATA_DIR: { readIn: 'cli/local.ts' },
  WARDEN_ADMIN_TOKEN: { readIn: 'cli/local.ts' },
  WARDEN_CODEC_KEYS: { wired: () => temporal.codecKeys, expected: env.WARDEN_CODEC_KEYS },
  WARDEN_PUBLIC_URL: { wired: () => notifier.publicUrl, expected: env.WARDEN_PUBLIC_URL },
  WARDEN_TEMPORAL_UI_ORIGIN: { readIn: 'api/routes/codec.ts' },
  WARDEN_TEMPORAL_UI_UPSTREAM: { readIn: 'web/plugin.ts' },
  WARDEN_RESPONDER_URL: { wired: () => deps.responderUrl, expected: env.WARDEN_RESPONDER_URL },
  WARDEN_RESPONDER_SECRET: { wired: () => deps.responderSecret, expected: env.WARDEN_RESPONDER_SECRET },
  WARDEN_RESPONDER_CALLBACK_WAIT: { wired: () => deps.containment.responderCallbackWait, expected: '20m' },
  WARDEN_CONTAINMENT_CONFIRM_DEADLINE: { wired: () => deps.containment.confirmationDeadline, expected: '2h' },
  WARDEN_FAILED_ACTION_ESCALATION_INTERVAL: { wired: () => deps.containment.failedEscalationInterval, expected: '30m' },
  WARDEN_FAILED_ACTION_ESCALATIONS: { wired: () => deps.containment.failedEscalations, expected: 6 },
  WARDEN_PROVISIONING_SECRET: { wired: () => deps.provisioningSecret, expected: env.WARDEN_PROVISIONING_SECRET },
  WARDEN_BODY_LIMIT_BYTES: { readIn: 'server.ts' },
  WARDEN_RATE_LIMIT_PER_MINUTE: { readIn: 'server.ts' },
  WARDEN_AUTH_CACHE_TTL: { wired: () => credentialCacheSettings(config).ttlMs, expected: 3000 },
  WARDEN_AUTH_CACHE_ENTRIES: { wired: () => credentialCacheSettings(config).maxEntries, expected: 500 },
  WARDEN_API_DB_POOL_SIZE: { readIn: 'cli/services.ts' },
  // A quarter of the pool for local activities, the rest for activities: never more slots than connections.
  WARDEN_WORKER_DB_POOL_SIZE: {
    wired: () => workerConcurrency(config),
    expected: { poolSize: 12, maxConcurrentLocalActivityExecutions: 3, maxConcurrentActivityTaskExecutions: 9 },
  },
  WARDEN_TRUST_PROXY: { readIn: 'server.ts' },
  WARDEN_COMMAND_CHECKS_ENABLED: { wired: () => deps.commandChecksEnabled, expected: true },
  WARDEN_SMTP_URL: { wired: () => deps.notifier.canUse('email') && notifier.smtpUrl, expected: env.WARDEN_SMTP_URL },
  WARDEN_MAIL_FROM: { wired: () => notifier.mailFrom, expected: env.WARDEN_MAIL_FROM },
  WARDEN_WEBHOOK_SECRET: { wired: () => notifier.webhookSecret, expected: env.WARDEN_WEBHOOK_SECRET },
  WARDEN_NOTIFY_ROUTES: {
    wired: () => deps.notifier.routesFor('security_manager'),
    expected: [{ channel: 'email', target: 'sec@example.org' }],
  },
  WARDEN_WORKER_METRICS_ADDRESS: { readIn: 'cli/services.ts' },
  WARDEN_CALLBACK_ALLOWED_ORIGINS: { wired: () => deps.callbacks.allowedOrigins, expected: ['https://itsm.example'] },
  WARDEN_CALLBACK_SECRET: { wired: () => deps.callbacks.secret, expected: env.WARDEN_CALLBACK_SECRET },
  WARDEN_CHANGE_REVIEW_LIMIT: { readIn: 'api/routes/changes.ts' },
  WARDEN_ACCESS_APPROVAL_DEADLINE: { readIn: 'api/routes/access.ts' },
  WARDEN_JIRA_FIELDS: { readIn: 'api/routes/changes.ts' },
  WARDEN_OUTBOUND_ALLOW: {
    wired: () => deps.outbound.allowlist,
    expected: { cidrs: [{ family: 4, bytes: [10, 20, 0, 0], prefix: 16 }], hosts: ['*.corp.example'] },
  },
  WARDEN_TEST_INTERVAL_FLOOR: { readIn: 'api/routes/test-schedules.ts' },
  // The seed 0x07 × 32 and its RFC 8032 public key: the worker signs with what was configured.
  WARDEN_AUDIT_SIGNING_KEY: { wired: () => deps.auditSigningKey?.publicKey, expected: '6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=' },
  WARDEN_AUDIT_VERIFY_KEY: { readIn: 'api/routes/audit.ts' },
  WARDEN_AUDIT_CHECKPOINT_INTERVAL: { wired: () => auditCheckpointSettings(config)?.every, expected: '15m' },
  WARDEN_SLA_MIN_TARGET: { readIn: 'api/routes/services.ts' },
  WARDEN_CORRELATION_WINDOW: { readIn: 'api/routes/alerts.ts' },
  WARDEN_CORRELATION_TYPES: { readIn: 'api/routes/alerts.ts' },
  WARDEN_ALERT_BURST_THRESHOLD: { readIn: 'api/routes/alerts.ts' },
  WARDEN_ALERT_BURST_WINDOW: { readIn: 'api/routes/alerts.ts' },
  WARDEN_ATTACK_BUNDLE_LIMIT_BYTES: { readIn: 'api/routes/attack.ts' },
  WARDEN_IMPORT_LIMIT_BYTES: { readIn: 'api/routes/ci-components.ts' },
  WARDEN_OIDC_ISSUER: { readIn: 'web/single-sign-on.ts' },
  WARDEN_OIDC_CLIENT_ID: { readIn: 'web/single-sign-on.ts' },
  WARDEN_OIDC_CLIENT_SECRET: { readIn: 'web/single-sign-on.ts' },
  WARDEN_OIDC_ROLE_CLAIM: { readIn: 'web/single-sign-on.ts' },
  WARDEN_OIDC_ROLE_MAP: { readIn: 'web/single-sign-on.ts' },
  LOG_LEVEL: { readIn: 'cli/warden.ts' },
};

it('has a route to its consumer for every variable config.ts parses', () => {
  expect(Object.keys(reaches).sort()).toEqual(Object.keys(configSchema.shape).sort());
});

it.each(Object.entries(reaches))('%s reaches the code that uses it', (name, route) => {
  if ('wired' in route) {
    expect(route.wired()).toEqual(route.expected);
  } else {
    const source = readFileSync(new URL(`../../${route.readIn}`, import.meta.url), 'utf8');
    expect(source).toMatch(new RegExp(`\\.${name}\\b`));
  }
});

it('wires the same activities for the worker the CLI starts and the one the tests start', () => {
  // Both call createWardenWorker with a Config; neither passes settings by hand any more.
  for (const file of ['cli/services.ts', 'tests/setup/stack.ts', 'bench/harness.ts']) {
    const source = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    expect(source).toMatch(/createWardenWorker\(\{\s*config[,:]/);
  }
});
