import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const optionalString = z.string().trim().min(1).optional();

/**
 * Every environment variable Warden reads. Unset DATABASE_URL / TEMPORAL_ADDRESS mean "start the
 * embedded ones" for `warden start`; `warden api` and `warden worker` require them.
 */
export const configSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('warden'),
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
  WARDEN_RESPONDER_URL: z.string().url().optional(),
  WARDEN_RESPONDER_SECRET: z.string().min(16).optional(),
  WARDEN_PROVISIONING_SECRET: z.string().min(16).optional(),
  WARDEN_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  WARDEN_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema>;

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
