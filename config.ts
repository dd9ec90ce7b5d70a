import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { type ClientConfigProfile, loadClientConfigProfile } from '@temporalio/envconfig';
import { z } from 'zod';
import type { CallbackSettings } from './domain/callbacks';
import { notificationChannels } from './domain/notifications';
import { durationMs, durationPattern } from './domain/duration';
import { parseRoleMapping } from './domain/identity';
import { emptyAllowlist, parseAllowlist, type OutboundAllowlist } from './domain/outbound';
import { observableTypes } from './domain/observable';

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z.string().trim().min(1).optional();

function isReadablePemFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile() && readFileSync(path, 'utf8').includes('-----BEGIN ');
  } catch {
    return false;
  }
}

function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A certificate or key file the Temporal connection reads at start: it must be there and be PEM. */
const pemPath = z.string().trim().min(1).refine(isReadablePemFile, 'must name a readable PEM file (-----BEGIN …)').optional();

/** `{"security_manager":[{"channel":"email","target":"sec@example.org"}]}`: who hears of a role's notifications. */
const notifyRoutes = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be JSON: {"role":[{"channel":"email|webhook|slack","target":"…"}]}' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), z.array(z.strictObject({ channel: z.enum(notificationChannels), target: z.string().min(1) }))));

const proxyAddress = /^(loopback|linklocal|uniquelocal|\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[0-9a-f]*:[0-9a-f:.]*(\/\d{1,3})?)$/i;

/**
 * Which proxies' `X-Forwarded-For` is believed, in Fastify's `trustProxy` forms: `false` (none, the
 * default: the connection's address is the client), `true` (any: only when every path to Warden
 * passes one proxy), a hop count, or comma-separated addresses and CIDRs of the proxies.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((text, context): boolean | number | string[] => {
    if (text === '' || text === 'false') return false;
    if (text === 'true') return true;
    if (/^\d+$/.test(text)) return Number(text);
    const addresses = text.split(',').map((entry) => entry.trim());
    const bad = addresses.filter((entry) => !proxyAddress.test(entry));
    if (bad.length) {
      context.addIssue({
        code: 'custom',
        message: `must be true, false, a hop count, or comma-separated proxy addresses/CIDRs (not ${bad.map((b) => JSON.stringify(b)).join(', ')})`,
      });
      return z.NEVER;
    }
    return addresses;
  });

/**
 * Every environment variable Warden reads. Unset DATABASE_URL / TEMPORAL_ADDRESS mean "start the
 * embedded ones" for `warden start`; `warden api` and `warden worker` require them.
 */
export const configSchema = z
  .object({
    DATABASE_URL: z.string().url().optional(),
    TEMPORAL_ADDRESS: optionalString,
    /** Unset: the profile's namespace, else `default` (wiring.ts resolves it). */
    TEMPORAL_NAMESPACE: optionalString,
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('warden'),
    // The Temporal SDK's own environment configuration (@temporalio/envconfig), with its names.
    TEMPORAL_CONFIG_FILE: z.string().trim().min(1).refine(isReadableFile, 'must name a readable TOML file').optional(),
    TEMPORAL_PROFILE: optionalString,
    TEMPORAL_API_KEY: optionalString,
    TEMPORAL_TLS: z.stringbool().optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: pemPath,
    TEMPORAL_TLS_SERVER_NAME: optionalString,
    TEMPORAL_TLS_CLIENT_CERT_PATH: pemPath,
    TEMPORAL_TLS_CLIENT_KEY_PATH: pemPath,
    TEMPORAL_CLI: optionalString,
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: port.default(3000),
    WARDEN_DATA_DIR: z.string().min(1).default('.warden'),
    WARDEN_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    WARDEN_CODEC_KEYS: z
      .string()
      .regex(/^[\w.-]+:[A-Za-z0-9+/=]+(,[\w.-]+:[A-Za-z0-9+/=]+)*$/, 'must be keyId:base64Key[,keyId:base64Key…]')
      .optional(),
    WARDEN_PUBLIC_URL: z.string().url().optional(),
    WARDEN_TEMPORAL_UI_ORIGIN: z.string().url().optional(),
    WARDEN_TEMPORAL_UI_UPSTREAM: z.string().url().optional(),
    WARDEN_RESPONDER_URL: z.string().url().optional(),
    WARDEN_RESPONDER_SECRET: z.string().min(16).optional(),
    /** How long an action a responder accepted waits for its signed callback before it counts as failed. */
    WARDEN_RESPONDER_CALLBACK_WAIT: z.string().regex(durationPattern, 'must be a duration such as 30s, 15m, 1h').default('1h'),
    /** How long a containment action nobody's responder carried out may wait for its confirmation before it escalates. */
    WARDEN_CONTAINMENT_CONFIRM_DEADLINE: z.string().regex(durationPattern, 'must be a duration such as 30m, 4h, 1d').default('4h'),
    /** After that deadline, a failed containment action escalates again at this interval until someone confirms it. */
    WARDEN_FAILED_ACTION_ESCALATION_INTERVAL: z.string().regex(durationPattern, 'must be a duration such as 30m, 1h, 4h').default('1h'),
    /** At most this many escalations of one failed action: bounded, so an abandoned one stops notifying (and growing history). */
    WARDEN_FAILED_ACTION_ESCALATIONS: z.coerce.number().int().min(1).max(100).default(24),
    WARDEN_PROVISIONING_SECRET: z.string().min(16).optional(),
    WARDEN_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
    WARDEN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
    /** How long an API process may reuse who a token or session is; the bound on a revocation it did not hear of. `0s`: look up every request. */
    WARDEN_AUTH_CACHE_TTL: z
      .string()
      .regex(durationPattern, 'must be a duration such as 5s or 0s (off)')
      .refine(
        (text) => !durationPattern.test(text) || durationMs(text) <= 60_000,
        'must be at most 60s: it bounds how long a revoked credential may still work',
      )
      .default('5s'),
    WARDEN_AUTH_CACHE_ENTRIES: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    /** The API's PostgreSQL connections. */
    WARDEN_API_DB_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
    /** The worker's PostgreSQL connections; its activity slots are sized to it (wiring.ts, workerConcurrency). */
    WARDEN_WORKER_DB_POOL_SIZE: z.coerce.number().int().min(2).max(1000).default(20),
    WARDEN_TRUST_PROXY: trustProxy.default(false),
    /** `command` security checks run executables on the worker host: off unless an operator opts in. */
    WARDEN_COMMAND_CHECKS_ENABLED: z.stringbool().default(false),
    WARDEN_SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\//, 'must be smtp://… or smtps://…')
      .optional(),
    WARDEN_MAIL_FROM: z.string().min(3).default('Warden <warden@localhost>'),
    WARDEN_WEBHOOK_SECRET: z.string().min(16).optional(),
    WARDEN_NOTIFY_ROUTES: notifyRoutes.default({}),
    WARDEN_WORKER_METRICS_ADDRESS: z
      .string()
      .regex(/^[\w.:[\]-]+:\d+$/, 'must be host:port, e.g. 0.0.0.0:9464')
      .optional(),
    /** Origins (scheme://host[:port]) change-gate callbacks may be sent to; nothing else is ever called. */
    WARDEN_CALLBACK_ALLOWED_ORIGINS: z
      .string()
      .refine(
        (value) => value.split(',').every((origin) => isOrigin(origin.trim())),
        'must be comma-separated origins such as https://itsm.example.com',
      )
      .optional(),
    /** The shared secret callbacks are signed with (HMAC-SHA256). */
    WARDEN_CALLBACK_SECRET: z.string().min(24, 'must be at least 24 characters').optional(),
    /** The longest a change security review may stay undecided; the change's planned start may cut it shorter. */
    WARDEN_CHANGE_REVIEW_LIMIT: z.string().regex(durationPattern, 'must be a duration such as 30s, 15m, 4h, 5d').default('5d'),
    /** How long each approval of an access request may wait before it escalates (and again after each escalation). */
    WARDEN_ACCESS_APPROVAL_DEADLINE: z.string().regex(durationPattern, 'must be a duration such as 30s, 15m, 4h, 3d').default('3d'),
    /** The shortest SLA target or cadence a service may set: shorter ones only churn timers, escalations and histories. */
    WARDEN_SLA_MIN_TARGET: z.string().regex(durationPattern, 'must be a duration such as 5m, 1h (tests lower it to 1s)').default('5m'),
    /** How far apart in time an alert and an open incident's sighting of the same observable may be to correlate. */
    WARDEN_CORRELATION_WINDOW: z.string().regex(durationPattern, 'must be a duration such as 30m, 24h, 7d').default('24h'),
    /** Which observable types correlate alerts into one incident (hosts are left out: busy servers see unrelated attacks). */
    WARDEN_CORRELATION_TYPES: z
      .string()
      .transform((value) => value.split(',').map((type) => type.trim()))
      .pipe(z.array(z.enum(observableTypes)).min(1))
      .default(['account', 'ip', 'hash', 'domain', 'url', 'email']),
    /** More alerts than this about one account within WARDEN_ALERT_BURST_WINDOW are a burst, even inside its expected activity. */
    WARDEN_ALERT_BURST_THRESHOLD: z.coerce.number().int().min(1).default(5),
    WARDEN_ALERT_BURST_WINDOW: z.string().regex(durationPattern, 'must be a duration such as 5m, 15m, 1h').default('15m'),
    /** The one body larger than WARDEN_BODY_LIMIT_BYTES: an enterprise ATT&CK STIX bundle is about 45 MB. */
    WARDEN_ATTACK_BUNDLE_LIMIT_BYTES: z.coerce.number().int().min(1024).default(104_857_600),
    /** SBOMs and scanner reports: a container image's CycloneDX BOM at the 20,000-component maximum is 3–6 MB. */
    WARDEN_IMPORT_LIMIT_BYTES: z.coerce.number().int().min(1024).default(33_554_432),
    /** Which Jira custom field holds what, as name=customfield_id pairs (plannedStart, plannedEnd, backoutPlan, affectedCis, problem). */
    WARDEN_JIRA_FIELDS: z
      .string()
      .regex(/^\w+=customfield_\d+(,\w+=customfield_\d+)*$/, 'must be name=customfield_NNNNN pairs, comma-separated')
      .optional(),
    /**
     * Networks and host names outbound connections may reach although their address is loopback,
     * link-local, private or a metadata endpoint, and that security checks may aim at without the
     * control's CIs recording them.
     */
    WARDEN_OUTBOUND_ALLOW: z
      .string()
      .superRefine((value, context) => {
        const parsed = parseAllowlist(value);
        if ('problem' in parsed)
          context.addIssue({
            code: 'custom',
            message: `must be comma-separated CIDRs, addresses or host names (10.0.0.0/8,::1,*.corp.example): ${parsed.problem}`,
          });
      })
      .optional(),
    /** The shortest interval a control's test Schedule may have; a faster one is refused. */
    WARDEN_TEST_INTERVAL_FLOOR: z
      .string()
      .regex(durationPattern, 'must be a duration such as 30s, 15m, 4h, 5d')
      .refine((value) => durationMs(value) >= 1000, 'must be at least 1s')
      .default('1m'),
    /** Signs audit checkpoints (workers): base64 of a 32-byte Ed25519 seed. The public key is derived from it. */
    WARDEN_AUDIT_SIGNING_KEY: z
      .string()
      .trim()
      .refine(isBase64Of32Bytes, 'must be base64 of a 32-byte Ed25519 seed (e.g. `openssl rand -base64 32`)')
      .optional(),
    /** Verifies checkpoints (API processes without the private key, or keys from before a rotation). */
    WARDEN_AUDIT_VERIFY_KEY: z
      .string()
      .refine(
        (value) => value.split(',').every((key) => isBase64Of32Bytes(key.trim())),
        'must be comma-separated base64 of 32-byte Ed25519 public keys (GET /audit/checkpoints shows the current one)',
      )
      .optional(),
    /** How often the head of the audit chain is signed. */
    WARDEN_AUDIT_CHECKPOINT_INTERVAL: z
      .string()
      .regex(durationPattern, 'must be a duration such as 30s, 15m, 1h')
      .refine((value) => durationMs(value) >= 1000, 'must be at least 1s')
      .default('1h'),
    /** The OpenID Connect issuer people sign in through (discovery at <issuer>/.well-known/openid-configuration); unset: token sign-in only. */
    WARDEN_OIDC_ISSUER: z
      .string()
      .url()
      .refine(isSafeIssuer, 'must be https:// (http:// only on localhost or 127.0.0.1, for a local provider)')
      .optional(),
    WARDEN_OIDC_CLIENT_ID: optionalString,
    WARDEN_OIDC_CLIENT_SECRET: optionalString,
    /** The claim whose values (group names) map to roles. */
    WARDEN_OIDC_ROLE_CLAIM: z.string().trim().min(1).default('groups'),
    /** `group=role[,group=role…]`: which claim values grant which Warden roles; a person with none is refused. */
    WARDEN_OIDC_ROLE_MAP: z
      .string()
      .transform((text, context) => {
        const parsed = parseRoleMapping(text);
        if ('problem' in parsed) {
          context.addIssue({ code: 'custom', message: `must be group=role pairs, comma-separated: ${parsed.problem}` });
          return z.NEVER;
        }
        return parsed.mapping;
      })
      .optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine(checkVariableCombinations);

type CombinedVariables = TemporalConnectionVariables & SingleSignOnVariables;

/** Refuses variables that only work together when some of them are missing or contradict each other. */
function checkVariableCombinations(config: CombinedVariables, context: z.core.$RefinementCtx<CombinedVariables>): void {
  checkTemporalConnection(config, context);
  checkSingleSignOn(config, (variable, message) => context.addIssue({ code: 'custom', path: [variable], message }));
}

/** Single sign-on needs all of issuer, client and role mapping, or none of them. */
type SingleSignOnVariables = Partial<Record<(typeof singleSignOnVariables)[number], unknown>>;
const singleSignOnVariables = ['WARDEN_OIDC_ISSUER', 'WARDEN_OIDC_CLIENT_ID', 'WARDEN_OIDC_CLIENT_SECRET', 'WARDEN_OIDC_ROLE_MAP'] as const;

function checkSingleSignOn(config: SingleSignOnVariables, problem: (variable: string, message: string) => void): void {
  const variables = singleSignOnVariables;
  const set: string[] = variables.filter((name) => config[name] !== undefined);
  if (set.length && set.length < variables.length)
    for (const name of variables.filter((variable) => !set.includes(variable)))
      problem(name, `is needed for single sign-on, since ${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set`);
}

function isSafeIssuer(value: string): boolean {
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}

function isBase64Of32Bytes(value: string): boolean {
  return /^[A-Za-z0-9+/]{43}=$/.test(value) && Buffer.from(value, 'base64').length === 32;
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

export type Config = z.infer<typeof configSchema>;

type TemporalConnectionVariables = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_NAMESPACE'
  | 'TEMPORAL_CONFIG_FILE'
  | 'TEMPORAL_PROFILE'
  | 'TEMPORAL_API_KEY'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_TLS_CLIENT_CERT_PATH'
  | 'TEMPORAL_TLS_CLIENT_KEY_PATH'
>;

/**
 * The Temporal connection profile: the TOML profile of TEMPORAL_CONFIG_FILE (TEMPORAL_PROFILE, else
 * `default`), overridden by the variables, exactly as the Temporal SDK and CLI merge them. Unlike the
 * SDK, Warden reads a profile file only when TEMPORAL_CONFIG_FILE names it: a developer's
 * `~/.config/temporalio/temporal.toml` never silently redirects a Warden process.
 */
export function temporalProfile(config: TemporalConnectionVariables): ClientConfigProfile {
  const variables: Record<string, string | undefined> = {
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    TEMPORAL_API_KEY: config.TEMPORAL_API_KEY,
    TEMPORAL_TLS: config.TEMPORAL_TLS === undefined ? undefined : String(config.TEMPORAL_TLS),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: config.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
    TEMPORAL_TLS_SERVER_NAME: config.TEMPORAL_TLS_SERVER_NAME,
    TEMPORAL_TLS_CLIENT_CERT_PATH: config.TEMPORAL_TLS_CLIENT_CERT_PATH,
    TEMPORAL_TLS_CLIENT_KEY_PATH: config.TEMPORAL_TLS_CLIENT_KEY_PATH,
  };
  const overrideEnvVars = Object.fromEntries(
    Object.entries(variables).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return loadClientConfigProfile({
    ...(config.TEMPORAL_CONFIG_FILE
      ? { configSource: { path: config.TEMPORAL_CONFIG_FILE }, configFileStrict: true }
      : { disableFile: true }),
    ...(config.TEMPORAL_PROFILE ? { profile: config.TEMPORAL_PROFILE } : {}),
    overrideEnvVars,
  });
}

/** Refuses a Temporal connection that could not work, naming the variable to fix. */
function checkTemporalConnection(config: TemporalConnectionVariables, context: z.core.$RefinementCtx<TemporalConnectionVariables>): void {
  const problem = (variable: keyof TemporalConnectionVariables, message: string) =>
    context.addIssue({ code: 'custom', path: [variable], message });
  if (config.TEMPORAL_PROFILE && !config.TEMPORAL_CONFIG_FILE)
    problem('TEMPORAL_PROFILE', 'needs TEMPORAL_CONFIG_FILE, the TOML file the profile is in');
  if (config.TEMPORAL_TLS === false) {
    const tlsOnly = Object.keys(config).filter(
      (key) => key.startsWith('TEMPORAL_TLS_') && config[key as keyof TemporalConnectionVariables],
    );
    if (tlsOnly.length) problem('TEMPORAL_TLS', `is false, but ${tlsOnly.join(', ')} ${tlsOnly.length > 1 ? 'are' : 'is'} set`);
  }
  let profile: ClientConfigProfile;
  try {
    profile = temporalProfile(config);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/Profile '.*' not found/.test(message)) problem('TEMPORAL_PROFILE', `no such profile in TEMPORAL_CONFIG_FILE (${message})`);
    else problem('TEMPORAL_CONFIG_FILE', `is not a valid Temporal client configuration: ${message}`);
    return;
  }
  const where = config.TEMPORAL_CONFIG_FILE ? ` (or tls.client_%s_path in the TEMPORAL_CONFIG_FILE profile)` : '';
  if (profile.tls?.clientCert && !profile.tls.clientKey)
    problem(
      'TEMPORAL_TLS_CLIENT_KEY_PATH',
      `must be set with the client certificate: a certificate without its key cannot authenticate${where.replace('%s', 'key')}`,
    );
  if (profile.tls?.clientKey && !profile.tls.clientCert)
    problem(
      'TEMPORAL_TLS_CLIENT_CERT_PATH',
      `must be set with the client key: a key without its certificate cannot authenticate${where.replace('%s', 'cert')}`,
    );
  if (config.TEMPORAL_CONFIG_FILE) {
    for (const [field, source] of [
      ['server_ca_cert_path', profile.tls?.serverCACert],
      ['client_cert_path', profile.tls?.clientCert],
      ['client_key_path', profile.tls?.clientKey],
    ] as const) {
      if (source && 'path' in source && !isReadablePemFile(source.path))
        problem('TEMPORAL_CONFIG_FILE', `its profile's tls.${field} (${source.path}) must name a readable PEM file`);
    }
  }
}

export function callbackSettings(config: Config): CallbackSettings {
  const origins = config.WARDEN_CALLBACK_ALLOWED_ORIGINS?.split(',') ?? [];
  return { allowedOrigins: origins.map((origin) => new URL(origin.trim()).origin), secret: config.WARDEN_CALLBACK_SECRET };
}

export function outboundAllowlist(config: Config): OutboundAllowlist {
  const parsed = parseAllowlist(config.WARDEN_OUTBOUND_ALLOW);
  return 'allowlist' in parsed ? parsed.allowlist : emptyAllowlist;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(configSchema.shape).flatMap((key) => (env[key] === undefined || env[key] === '' ? [] : [[key, env[key]]])),
  );
  const parsed = configSchema.safeParse(relevant);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

export function requireSetting<K extends keyof Config>(config: Config, key: K, why: string): NonNullable<Config[K]> {
  const value = config[key];
  if (value === undefined || value === null) throw new ConfigError(`${String(key)} must be set ${why}`);
  return value as NonNullable<Config[K]>;
}
