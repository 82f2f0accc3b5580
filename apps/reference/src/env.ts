import { ConfigError, originOf } from './config.js';
import { parseDuration } from './duration.js';
import type { SigningJwk } from './token/keys.js';

/** The reference app's settings, read from the LATCHKEY_* environment (API.md). */
export interface EnvSettings {
  port: number;
  host: string;
  mode: 'session' | 'token';
  /** Null: none given (the app may generate a development secret in its data dir). */
  secrets: string[] | null;
  production: boolean;
  dataDir: string;
  redisUrl: string | null;
  databaseUrl: string | null;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  accessTtlMs: number;
  refreshRetryWindowMs: number;
  publicUrl: string;
  origins: string[];
  loginLimit: number;
  /** Registrations per client address per hour (LATCHKEY_REGISTER_LIMIT). */
  registerLimit: number;
  /** Proxies in front of the app that append to X-Forwarded-For (LATCHKEY_TRUSTED_PROXIES). */
  trustedProxies: number;
  /** Near-cache entry lifetime in ms (LATCHKEY_NEAR_CACHE), or null when off. Needs Redis. */
  nearCacheMs: number | null;
  /** Token mode: private signing JWKs from LATCHKEY_SIGNING_KEYS; null = none given. */
  signingKeys: SigningJwk[] | null;
}

type Env = Record<string, string | undefined>;

function durationFrom(
  env: Env,
  key: string,
  fallback: string,
  max?: { ms: number; text: string },
): number {
  const raw = env[key] ?? fallback;
  const ms = parseDuration(raw);
  if (ms === null || ms <= 0) {
    throw new ConfigError(
      `${key}: expected a duration like 90s, 15m, 12h or 30d, got ${JSON.stringify(raw)}`,
    );
  }
  if (max && ms > max.ms)
    throw new ConfigError(`${key}: must not be above ${max.text}, got ${raw}`);
  return ms;
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
  const idleTimeoutMs = durationFrom(env, 'LATCHKEY_IDLE_TIMEOUT', '30m');
  const absoluteTimeoutMs = durationFrom(env, 'LATCHKEY_ABSOLUTE_TIMEOUT', '12h');
  if (idleTimeoutMs > absoluteTimeoutMs) {
    throw new ConfigError(
      'LATCHKEY_IDLE_TIMEOUT: must not be longer than LATCHKEY_ABSOLUTE_TIMEOUT',
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
  originOf('LATCHKEY_PUBLIC_URL', publicUrl);
  const origins = (env.LATCHKEY_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  origins.forEach((o) => originOf('LATCHKEY_ORIGINS', o));

  const nearCacheRaw = env.LATCHKEY_NEAR_CACHE?.trim() || 'off';
  const nearCacheMs =
    nearCacheRaw === 'off'
      ? null
      : durationFrom(env, 'LATCHKEY_NEAR_CACHE', 'off', { ms: 300_000, text: '5m' });
  if (nearCacheMs !== null && !env.LATCHKEY_REDIS_URL?.trim()) {
    throw new ConfigError(
      'LATCHKEY_NEAR_CACHE: needs LATCHKEY_REDIS_URL (invalidation travels over Redis pub/sub)',
    );
  }

  // Servers that share sessions must share their keys: a secret generated per machine
  // would make every server refuse the cookies the others signed.
  const redisUrl = urlFrom('LATCHKEY_REDIS_URL');
  const databaseUrl = urlFrom('DATABASE_URL');
  const sharedStore = redisUrl ? 'LATCHKEY_REDIS_URL' : databaseUrl ? 'DATABASE_URL' : null;
  if (sharedStore && !secrets) {
    throw new ConfigError(
      `LATCHKEY_SECRET: required with a shared store (${sharedStore}): every server must sign with the same secret; generate one with: node -e "console.log(crypto.randomBytes(32).toString('base64url'))"`,
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
      `LATCHKEY_SIGNING_KEYS: required in token mode with a shared store (${sharedStore}): every server must sign access tokens with the same keys (copy the JWK Set from <data dir>/signing-keys.json, which npm run keys -- rotate writes)`,
    );
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
    databaseUrl,
    idleTimeoutMs,
    absoluteTimeoutMs,
    accessTtlMs: durationFrom(env, 'LATCHKEY_ACCESS_TTL', '10m', { ms: 3_600_000, text: '1h' }),
    refreshRetryWindowMs: durationFrom(env, 'LATCHKEY_REFRESH_RETRY_WINDOW', '10s'),
    publicUrl,
    origins,
    loginLimit: integerFrom(env, 'LATCHKEY_LOGIN_LIMIT', 5, 1, 1000),
    registerLimit: integerFrom(env, 'LATCHKEY_REGISTER_LIMIT', 10, 1, 100_000),
    trustedProxies: integerFrom(env, 'LATCHKEY_TRUSTED_PROXIES', 0, 0, 16),
    nearCacheMs,
  };
}
