import {
  checkOptions,
  ConfigError,
  parseDuration,
  type Duration,
  type OptionsWithoutKeys,
  type SigningJwk,
} from '@latchkey/core';
import { REDIS_KEYS, redisFromEnv, type RedisFromEnv } from './redis-env.js';
import { mailFromEnv } from './mail-env.js';
import { OIDC_ENV_KEY_OF_OPTION, oidcFromEnv } from './oidc-env.js';

/**
 * The server's settings, read from the environment (API.md): what `npm start` and the
 * `latchkey` CLI both run on, so an operator's command sees the server's stores. The
 * LATCHKEY_* keys that are Latchkey options go into `options` as given and are
 * validated by the core's own rules (`checkOptions`, the same as `createLatchkey`): one
 * validator, with its messages put in terms of the environment keys.
 */
export interface EnvSettings {
  port: number;
  host: string;
  mode: 'session' | 'token';
  /** Null: none given (the app may generate a development secret in its data dir). */
  secrets: string[] | null;
  production: boolean;
  dataDir: string;
  redisUrl: string | null;
  /**
   * Where Redis is: LATCHKEY_REDIS_URL, LATCHKEY_REDIS_SENTINELS (+ _SENTINEL_NAME) or
   * LATCHKEY_REDIS_CLUSTER, with the key that said so; null without Redis.
   */
  redis: RedisFromEnv | null;
  /** Prefix of every Redis key and of the invalidation channel (LATCHKEY_REDIS_PREFIX). */
  redisPrefix: string;
  databaseUrl: string | null;
  /** PostgreSQL schema of Latchkey's tables and the app's (LATCHKEY_DATABASE_SCHEMA). */
  databaseSchema: string;
  publicUrl: string;
  /** Near-cache entry lifetime in ms (LATCHKEY_NEAR_CACHE), or null when off. Needs Redis or PostgreSQL. */
  nearCacheMs: number | null;
  /** Token mode: private signing JWKs from LATCHKEY_SIGNING_KEYS; null = none given. */
  signingKeys: SigningJwk[] | null;
  /** `createLatchkey` options from the environment, already checked. */
  options: OptionsWithoutKeys;
  /** How long requests in flight get to finish on SIGTERM, in ms (LATCHKEY_SHUTDOWN_TIMEOUT). */
  shutdownTimeoutMs: number;
  /** Port of the Prometheus metrics on 127.0.0.1 (LATCHKEY_METRICS_PORT), or null when off. */
  metricsPort: number | null;
  /** Mail server for reset and verification mail (LATCHKEY_SMTP_URL); null: `.eml` files in the data dir (not in production). */
  smtpUrl: string | null;
  /** Sender of that mail (LATCHKEY_MAIL_FROM). */
  mailFrom: string;
}

type Env = Record<string, string | undefined>;

/** Which environment key sets each option, for error messages an operator can act on. */
const ENV_KEY_OF_OPTION: [RegExp, string][] = [
  [/\bsession\.idleTimeout\b/g, 'LATCHKEY_IDLE_TIMEOUT'],
  [/\bsession\.absoluteTimeout\b/g, 'LATCHKEY_ABSOLUTE_TIMEOUT'],
  [/\btoken\.accessTtl\b/g, 'LATCHKEY_ACCESS_TTL'],
  [/\btoken\.refreshRetryWindow\b/g, 'LATCHKEY_REFRESH_RETRY_WINDOW'],
  [/\bpublicUrl\b/g, 'LATCHKEY_PUBLIC_URL'],
  [/\borigins\[\d+\]/g, 'LATCHKEY_ORIGINS'],
  [/\brateLimit\.loginLimit\b/g, 'LATCHKEY_LOGIN_LIMIT'],
  [/\brateLimit\.registerLimit\b/g, 'LATCHKEY_REGISTER_LIMIT'],
  [/\btrustedProxies\b/g, 'LATCHKEY_TRUSTED_PROXIES'],
  ...OIDC_ENV_KEY_OF_OPTION,
];

/** A core configuration error, re-worded to name the environment key that caused it. */
export function inEnvTerms(error: ConfigError): ConfigError {
  let message = error.message;
  for (const [option, key] of ENV_KEY_OF_OPTION) message = message.replace(option, key);
  return new ConfigError(message);
}

function durationFrom(env: Env, key: string): Duration | undefined {
  const raw = env[key]?.trim();
  // Checked by the core (checkOptions); a malformed value fails there, named by key.
  return raw ? (raw as Duration) : undefined;
}

/** `{ [key]: value }`, or nothing when the value is unset (exactOptionalPropertyTypes). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]: V });
}

function integerFrom(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(
      `${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}

/**
 * Parses and validates the environment once. Throws `ConfigError` whose message is
 * one line naming the key, for the process to print before exiting.
 */
export function readEnv(env: Env): EnvSettings {
  const port = integerFrom(env, 'PORT', 3000, 0, 65_535);
  const host = env.HOST?.trim() || 'localhost';
  const mode = env.LATCHKEY_MODE?.trim() || 'session';
  if (mode !== 'session' && mode !== 'token') {
    throw new ConfigError(
      `LATCHKEY_MODE: expected "session" or "token", got ${JSON.stringify(mode)}`,
    );
  }
  const production = env.NODE_ENV === 'production';
  let secrets: string[] | null = null;
  if (env.LATCHKEY_SECRET !== undefined && env.LATCHKEY_SECRET !== '') {
    secrets = env.LATCHKEY_SECRET.split(',').map((s) => s.trim());
    if (secrets.some((s) => s.length < 32)) {
      throw new ConfigError(
        'LATCHKEY_SECRET: each comma-separated secret must be at least 32 characters',
      );
    }
  } else if (production) {
    throw new ConfigError(
      'LATCHKEY_SECRET: required when NODE_ENV=production (at least 32 random characters)',
    );
  }
  const urlFrom = (key: string): string | null => {
    const raw = env[key]?.trim();
    if (!raw) return null;
    try {
      return new URL(raw).href;
    } catch {
      throw new ConfigError(`${key}: expected a URL, got an unparseable value`);
    }
  };
  const publicUrl =
    env.LATCHKEY_PUBLIC_URL?.trim() || `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const origins = (env.LATCHKEY_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

  const nearCacheRaw = env.LATCHKEY_NEAR_CACHE?.trim() || 'off';
  const nearCacheMs = nearCacheRaw === 'off' ? null : parseDuration(nearCacheRaw);
  if (nearCacheMs === null && nearCacheRaw !== 'off') {
    throw new ConfigError(
      `LATCHKEY_NEAR_CACHE: expected off or a duration like 30s, got ${JSON.stringify(nearCacheRaw)}`,
    );
  }
  if (nearCacheMs !== null && (nearCacheMs <= 0 || nearCacheMs > 300_000)) {
    throw new ConfigError(
      `LATCHKEY_NEAR_CACHE: must be above 0 and at most 5m, got ${nearCacheRaw}`,
    );
  }
  const anyRedis = REDIS_KEYS.some((key) => env[key]?.trim());
  if (nearCacheMs !== null && !anyRedis && !env.DATABASE_URL?.trim()) {
    throw new ConfigError(
      'LATCHKEY_NEAR_CACHE: needs LATCHKEY_REDIS_URL (or LATCHKEY_REDIS_SENTINELS, LATCHKEY_REDIS_CLUSTER) or DATABASE_URL (invalidation travels over Redis pub/sub or PostgreSQL LISTEN/NOTIFY)',
    );
  }

  // Servers that share sessions must share their keys: a secret generated per machine
  // would make every server refuse the cookies the others signed.
  const redisUrl = urlFrom('LATCHKEY_REDIS_URL');
  const redis = redisFromEnv(env, redisUrl);
  const databaseUrl = urlFrom('DATABASE_URL');
  const sharedStore = redis ? redis.key : databaseUrl ? 'DATABASE_URL' : null;
  if (sharedStore && !secrets) {
    throw new ConfigError(
      `LATCHKEY_SECRET: required with a shared store (${sharedStore}): every server must sign with the same secret; generate one with: npx latchkey secret`,
    );
  }

  let signingKeys: SigningJwk[] | null = null;
  const rawKeys = env.LATCHKEY_SIGNING_KEYS?.trim();
  if (rawKeys) {
    try {
      const parsed = JSON.parse(rawKeys) as { keys?: unknown };
      if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error('no keys');
      signingKeys = parsed.keys as SigningJwk[];
    } catch {
      throw new ConfigError(
        'LATCHKEY_SIGNING_KEYS: expected a JWK Set of private keys, {"keys":[…]}',
      );
    }
  } else if (production && mode === 'token') {
    throw new ConfigError('LATCHKEY_SIGNING_KEYS: required in token mode when NODE_ENV=production');
  } else if (sharedStore && mode === 'token') {
    throw new ConfigError(
      `LATCHKEY_SIGNING_KEYS: required in token mode with a shared store (${sharedStore}): every server must sign access tokens with the same keys (generate a JWK Set with: npx latchkey keys generate)`,
    );
  }

  const redisPrefix = env.LATCHKEY_REDIS_PREFIX?.trim() || 'latchkey:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(redisPrefix)) {
    throw new ConfigError(
      `LATCHKEY_REDIS_PREFIX: expected up to 64 letters, digits and ":_.-", got ${JSON.stringify(redisPrefix)}`,
    );
  }
  const databaseSchema = env.LATCHKEY_DATABASE_SCHEMA?.trim() || 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    throw new ConfigError(
      `LATCHKEY_DATABASE_SCHEMA: expected a lower-case name of letters, digits and _ (at most 63), got ${JSON.stringify(databaseSchema)}`,
    );
  }

  const shutdownRaw = env.LATCHKEY_SHUTDOWN_TIMEOUT?.trim() || '10s';
  const shutdownTimeoutMs = parseDuration(shutdownRaw);
  if (shutdownTimeoutMs === null || shutdownTimeoutMs <= 0 || shutdownTimeoutMs > 600_000) {
    throw new ConfigError(
      `LATCHKEY_SHUTDOWN_TIMEOUT: expected a duration above 0 and at most 10m, like 10s, got ${JSON.stringify(shutdownRaw)}`,
    );
  }
  const metricsPort = env.LATCHKEY_METRICS_PORT?.trim()
    ? integerFrom(env, 'LATCHKEY_METRICS_PORT', 0, 1, 65_535)
    : null;
  if (metricsPort !== null && metricsPort === port) {
    throw new ConfigError(
      `LATCHKEY_METRICS_PORT: must differ from PORT (${port}): metrics are never served on the public port`,
    );
  }

  const { smtpUrl, mailFrom } = mailFromEnv(env, production);

  const options: OptionsWithoutKeys = {
    mode,
    publicUrl,
    origins,
    session: {
      ...optional('idleTimeout', durationFrom(env, 'LATCHKEY_IDLE_TIMEOUT')),
      ...optional('absoluteTimeout', durationFrom(env, 'LATCHKEY_ABSOLUTE_TIMEOUT')),
    },
    token: {
      ...optional('accessTtl', durationFrom(env, 'LATCHKEY_ACCESS_TTL')),
      ...optional('refreshRetryWindow', durationFrom(env, 'LATCHKEY_REFRESH_RETRY_WINDOW')),
    },
    rateLimit: {
      loginLimit: integerFrom(env, 'LATCHKEY_LOGIN_LIMIT', 5, 0, 1_000_000),
      registerLimit: integerFrom(env, 'LATCHKEY_REGISTER_LIMIT', 10, 0, 1_000_000),
    },
    trustedProxies: integerFrom(env, 'LATCHKEY_TRUSTED_PROXIES', 0, 0, 1000),
    ...optional('oidc', oidcFromEnv(env)),
  };
  try {
    checkOptions(options);
  } catch (error) {
    throw error instanceof ConfigError ? inEnvTerms(error) : error;
  }

  return {
    port,
    signingKeys,
    host,
    mode,
    secrets,
    production,
    dataDir: env.LATCHKEY_DATA_DIR?.trim() || './data',
    redisUrl,
    redis,
    redisPrefix,
    databaseUrl,
    databaseSchema,
    publicUrl,
    nearCacheMs,
    options,
    shutdownTimeoutMs,
    metricsPort,
    smtpUrl,
    mailFrom,
  };
}
