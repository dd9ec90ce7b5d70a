import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { ActivityDeps } from './activities/deps';
import { createNotifier, loadTemplates, type NotifierSettings } from './activities/notifier';
import { createOutboundGuard } from './activities/outbound';
import { toClientOptions } from '@temporalio/envconfig';
import { type Config, ConfigError, callbackSettings, outboundAllowlist, requireSetting, temporalProfile } from './config';
import { parseAuditSigningKey } from './db/audit-checkpoints';
import { durationMs } from './domain/duration';
import type { CredentialCacheSettings } from './http/credential-cache';
import type { Database } from './db/database';
import { parseCheckParams } from './schemas/security-checks';
import type { ServerDeps } from './server';
import { AesGcmPayloadCodec, parseCodecKeys } from './temporal/codec';
import type { TemporalClientHandle, TemporalConnectionSettings, TemporalSettings } from './temporal/connection';

// The one place configuration becomes what the processes run with. `warden start|api|worker`, the
// test harness and the benchmarks all build their worker and API from these functions, so a setting
// read by config.ts cannot reach one of them and be dropped by another (tests/unit/config-wiring.test.ts).

/**
 * Where Temporal is, how to reach it (TLS, client certificate, API key: the Temporal SDK's own
 * environment configuration, a TOML profile overridden by TEMPORAL_* variables) and how payloads are
 * encrypted; `why` says who needs it when a setting is missing.
 */
export function temporalSettings(config: Config, why: string): TemporalSettings {
  return {
    ...temporalConnectionSettings(config, why),
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    codecKeys: requireSetting(config, 'WARDEN_CODEC_KEYS', why),
  };
}

/** Where Temporal is and how to reach it, without what only the API and the worker need (`warden temporal setup`). */
export function temporalConnectionSettings(config: Config, why: string): TemporalConnectionSettings {
  const { connectionOptions, namespace } = toClientOptions(temporalProfile(config));
  if (!connectionOptions.address)
    throw new ConfigError(`TEMPORAL_ADDRESS (or an address in the TEMPORAL_CONFIG_FILE profile) must be set ${why}`);
  return {
    address: connectionOptions.address,
    namespace: namespace ?? 'default',
    ...(connectionOptions.tls != null ? { tls: connectionOptions.tls } : {}),
    ...(connectionOptions.apiKey !== undefined ? { apiKey: connectionOptions.apiKey as string } : {}),
    ...(connectionOptions.metadata ? { metadata: connectionOptions.metadata as Record<string, string> } : {}),
  };
}

/** The Temporal address Warden was given, by TEMPORAL_ADDRESS or the profile: unset, `warden start` runs a dev server. */
export function configuredTemporalAddress(config: Config): string | undefined {
  return temporalProfile(config).address;
}

export function notifierSettings(config: Config): NotifierSettings {
  return {
    smtpUrl: config.WARDEN_SMTP_URL,
    mailFrom: config.WARDEN_MAIL_FROM,
    webhookSecret: config.WARDEN_WEBHOOK_SECRET,
    routes: config.WARDEN_NOTIFY_ROUTES,
    publicUrl: config.WARDEN_PUBLIC_URL,
  };
}

/** Everything the activities may use. */
export function activityDeps(config: Config, base: { db: Kysely<Database>; logger: Logger; workerIdentity: string }): ActivityDeps {
  const outbound = createOutboundGuard(outboundAllowlist(config));
  return {
    ...base,
    responderUrl: config.WARDEN_RESPONDER_URL,
    responderSecret: config.WARDEN_RESPONDER_SECRET,
    containment: {
      responderCallbackWait: config.WARDEN_RESPONDER_CALLBACK_WAIT,
      confirmationDeadline: config.WARDEN_CONTAINMENT_CONFIRM_DEADLINE,
      failedEscalationInterval: config.WARDEN_FAILED_ACTION_ESCALATION_INTERVAL,
      failedEscalations: config.WARDEN_FAILED_ACTION_ESCALATIONS,
    },
    provisioningSecret: config.WARDEN_PROVISIONING_SECRET,
    commandChecksEnabled: config.WARDEN_COMMAND_CHECKS_ENABLED,
    parseCheckParams,
    notifier: createNotifier(notifierSettings(config), loadTemplates(), outbound),
    callbacks: callbackSettings(config),
    outbound,
    ...(config.WARDEN_AUDIT_SIGNING_KEY ? { auditSigningKey: parseAuditSigningKey(config.WARDEN_AUDIT_SIGNING_KEY) } : {}),
  };
}

/**
 * The Schedule a worker keeps signing audit checkpoints with, or undefined when it holds no signing
 * key (it then signs nothing and leaves the Schedule to the workers that do).
 */
export function auditCheckpointSettings(config: Config): { every: string; taskQueue: string } | undefined {
  if (!config.WARDEN_AUDIT_SIGNING_KEY) return undefined;
  return { every: config.WARDEN_AUDIT_CHECKPOINT_INTERVAL, taskQueue: config.TEMPORAL_TASK_QUEUE };
}

/** What the HTTP server (API and inbox) runs with; it reads its own settings from `config`. */
export function serverDeps(config: Config, base: { db: Kysely<Database>; temporal: TemporalClientHandle }): ServerDeps {
  const codec = new AesGcmPayloadCodec(parseCodecKeys(requireSetting(config, 'WARDEN_CODEC_KEYS', 'to encrypt Temporal payloads')));
  return { config, ...base, codec, credentialCache: credentialCacheSettings(config) };
}

/** How the API remembers who a credential stands for (http/credential-cache.ts); it listens on DATABASE_URL. */
export function credentialCacheSettings(config: Config): CredentialCacheSettings {
  return {
    ttlMs: durationMs(config.WARDEN_AUTH_CACHE_TTL),
    maxEntries: config.WARDEN_AUTH_CACHE_ENTRIES,
    databaseUrl: config.DATABASE_URL,
  };
}

/**
 * The worker's PostgreSQL pool and the activity slots it can serve. Every activity and local activity
 * holds at most one connection at a time (a transaction, or one query after another), so slots that
 * add up to the pool never wait for a connection: a burst beyond them waits in Temporal's task queue,
 * where another worker may take it, instead of timing out in the pool after 3 s and retrying. Local
 * activities (the human-task bookkeeping) get a quarter, so a storm of activities cannot hold up the
 * workflow tasks that wait on them.
 */
export function workerConcurrency(config: Config) {
  const poolSize = config.WARDEN_WORKER_DB_POOL_SIZE;
  const maxConcurrentLocalActivityExecutions = Math.max(1, Math.floor(poolSize / 4));
  return {
    poolSize,
    maxConcurrentLocalActivityExecutions,
    maxConcurrentActivityTaskExecutions: poolSize - maxConcurrentLocalActivityExecutions,
  };
}

/**
 * Migrates, then loads the reference data Warden ships (the default playbooks). Idempotent. Only
 * `warden migrate` and `warden start` prepare a database, so the migrations and the YAML parser are
 * imported here, not with this module: the worker and the API that import wiring.ts start without them.
 */
export async function prepareDatabase(db: Kysely<Database>): Promise<string[]> {
  const [{ migrateToLatest }, { ensureShippedPlaybooks }, { shippedPlaybooks }] = await Promise.all([
    import('./migrations/index'),
    import('./db/playbooks'),
    import('./playbooks/index'),
  ]);
  const applied = await migrateToLatest(db);
  await ensureShippedPlaybooks(db, shippedPlaybooks());
  return applied;
}
