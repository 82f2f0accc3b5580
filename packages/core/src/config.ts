import { parseDuration, type Duration } from './duration.js';
import type { LatchkeyStore } from './stores/types.js';
import { jsonLineLogger, type SecurityLogger } from './log.js';
import { createKeySet, type KeySet, type SigningAlgorithm, type SigningJwk } from './token/keys.js';

/**
 * How the browser holds the credential: `session`, a server-side session behind an
 * HttpOnly cookie; `token`, a short-lived access JWT kept in page memory plus a
 * rotating refresh token in an HttpOnly cookie scoped to the auth routes.
 */
export type Mode = 'session' | 'token';

export interface TokenOptions {
  /**
   * Private signing keys as JWK, each with a `kid`. The first signs; all are
   * published at /auth/jwks.json and verify, so keep a rotated-out key here until
   * the tokens it signed have expired (one access TTL).
   */
  keys: readonly SigningJwk[];
  /** EdDSA (Ed25519) or ES256 (P-256); never HMAC or RSA PKCS#1 v1.5. @default 'EdDSA' */
  algorithm?: SigningAlgorithm;
  /** Access-token lifetime, at most one hour. @default '10m' */
  accessTtl?: Duration;
  /** How long a just-rotated refresh token may be replayed (a lost response). @default '10s' */
  refreshRetryWindow?: Duration;
  /**
   * Accept an access token on its signature and claims alone, without checking that
   * its session (refresh family) is still alive. Saves one store (or near-cache)
   * read per request, at the price that a token outlives sign-out, revocation and
   * password change until it expires (up to `accessTtl`). @default false
   */
  statelessAccess?: boolean;
  /** `iss` of access tokens. @default the public origin */
  issuer?: string;
  /** `aud` of access tokens. @default the public origin */
  audience?: string;
}

export interface SessionOptions {
  /** Sign-out after this long without a request. @default '30m' */
  idleTimeout?: Duration;
  /** Sign-out this long after sign-in, however active. @default '12h' */
  absoluteTimeout?: Duration;
  /**
   * Minimum time between two writes that slide the idle expiry. Capped at half the
   * idle timeout so an active session never lapses. @default '1m'
   */
  touchInterval?: Duration;
}

export interface PasswordOptions {
  /** Minimum length in characters; 8 at the lowest (NIST SP 800-63B). @default 15 */
  minLength?: number;
  /** Maximum length in characters. @default 128 */
  maxLength?: number;
  /**
   * Most argon2id computations (sign-up, login, password change) running at once;
   * more wait in line. Leaving a core free keeps authenticated requests fast while a
   * login storm runs, and bounds hashing memory to this × 19 MiB.
   * @default one less than the available cores, at least 1
   */
  hashConcurrency?: number;
  /**
   * Computations allowed to wait for a slot; beyond that a request is answered
   * `503 overloaded` with `Retry-After` (sign-ups are pushed out first), so a flood
   * cannot queue unbounded work. @default 64
   */
  hashQueueLimit?: number;
  /** Lowest accepted zxcvbn strength score, 0..4 (API.md: 3). @default 3 */
  minScore?: number;
  /** The site's name, which passwords should not be built from. @default 'Latchkey' */
  siteName?: string;
}

export interface RateLimitOptions {
  /** Failed logins allowed per account per window before `429`. @default 5 */
  loginLimit?: number;
  /** Failed logins allowed per client address per window. @default 20 × loginLimit */
  addressLimit?: number;
  /** The counting window. @default '15m' */
  window?: Duration;
  /** Registrations allowed per client address per hour before `429`. @default 10 */
  registerLimit?: number;
}

export interface HeaderOptions {
  /** Replaces the default Content-Security-Policy; must keep the API.md minimum. */
  contentSecurityPolicy?: string;
  /** `0` follows current guidance; the legacy value is opt-in. @default '0' */
  xssProtection?: '0' | '1; mode=block';
  /** HSTS max-age in seconds; at least one year. @default 63072000 (two years) */
  hstsMaxAge?: number;
  /**
   * `Clear-Site-Data` types sent on logout. `"cookies"` would reach every site under
   * the registrable domain and `"cache"` stalls Chromium for seconds, so neither is
   * allowed; the credential cookies are cleared with `Max-Age=0` anyway.
   * @default ['storage']
   */
  clearSiteData?: readonly ('storage' | 'executionContexts')[];
}

/**
 * Weakenings, each of which switches off a defence. They exist so tests can prove
 * that the attack tests catch a missing defence, and for rare migrations. Using any
 * of them logs a warning at start-up. Never set them in production.
 */
export interface UnsafeOptions {
  /** Skip the Sec-Fetch-Site / Origin check on unsafe requests. @default false */
  disableCrossOriginCheck?: boolean;
  /** Skip the session-bound anti-forgery token on unsafe requests. @default false */
  disableCsrfToken?: boolean;
  /** SameSite attribute of the session cookie. @default 'Strict' */
  sameSite?: 'Strict' | 'Lax' | 'None';
}

export interface LatchkeyOptions {
  /** Where users, sessions and rate-limit counters live. */
  store: LatchkeyStore;
  /**
   * Cookie-signing key material, at least 32 characters each. The first signs,
   * all verify, so a new secret can be put in front and old ones retired later.
   */
  secrets: readonly string[];
  /** The origin users reach the app at, e.g. `https://app.example.com`. */
  publicUrl: string;
  /** Extra origins allowed to make unsafe requests. @default [] */
  origins?: readonly string[];
  /** @default 'session' */
  mode?: Mode;
  /** Required in token mode. */
  token?: TokenOptions;
  /** Where the auth routes are mounted. @default '/auth' */
  basePath?: string;
  session?: SessionOptions;
  password?: PasswordOptions;
  rateLimit?: RateLimitOptions;
  headers?: HeaderOptions;
  /**
   * How many reverse proxies in front of the app append to `X-Forwarded-For`.
   * 0 trusts none and uses the socket address. @default 0
   */
  trustedProxies?: number;
  /** Largest accepted auth request body, in bytes. @default 16384 */
  bodyLimit?: number;
  /** Receives security events (sign-in, lockout, revocation). @default JSON lines on stdout */
  logger?: SecurityLogger;
  /** Clock, injectable for tests. @default Date.now */
  now?: () => number;
  /** Defences switched off; see `UnsafeOptions`. @default {} */
  unsafe?: UnsafeOptions;
}

/** The resolved, validated, frozen configuration. Nothing re-reads options or env later. */
export interface LatchkeyConfig {
  readonly store: LatchkeyStore;
  readonly secrets: readonly string[];
  readonly publicOrigin: string;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly mode: Mode;
  /** Token mode only. */
  readonly token: {
    readonly keys: KeySet;
    readonly accessTtlMs: number;
    readonly refreshRetryWindowMs: number;
    readonly statelessAccess: boolean;
    readonly issuer: string;
    readonly audience: string;
  } | null;
  readonly basePath: string;
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  readonly touchIntervalMs: number;
  readonly passwordMinLength: number;
  readonly passwordMaxLength: number;
  readonly hashConcurrency: number;
  readonly hashQueueLimit: number;
  readonly passwordMinScore: number;
  readonly siteName: string;
  readonly registerLimit: number;
  readonly loginLimit: number;
  readonly addressLimit: number;
  readonly rateLimitWindowMs: number;
  readonly contentSecurityPolicy: string;
  readonly xssProtection: '0' | '1; mode=block';
  readonly hstsMaxAge: number;
  /** The `Clear-Site-Data` header value for logout, or null for none. */
  readonly clearSiteData: string | null;
  readonly trustedProxies: number;
  readonly bodyLimit: number;
  readonly logger: SecurityLogger;
  readonly now: () => number;
  readonly unsafe: Readonly<Required<UnsafeOptions>>;
}

/** Start-up configuration failure; the message is one line that names the key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const DEFAULT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "worker-src 'self'; manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; " +
  "object-src 'none'; base-uri 'none'";

const REQUIRED_CSP_DIRECTIVES = [
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'none'",
] as const;

const ONE_YEAR_S = 31_536_000;

function duration(key: string, value: Duration | undefined, fallback: Duration): number {
  const ms = parseDuration(value ?? fallback);
  if (ms === null || ms <= 0) {
    throw new ConfigError(
      `${key}: expected a duration like 90s, 15m, 12h or 30d, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** One less than the cores this process may use (Node's availableParallelism), at least 1. */
function defaultHashConcurrency(): number {
  const os = (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
  ).process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  const cores =
    os?.availableParallelism?.() ??
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
      ?.hardwareConcurrency ??
    2;
  return Math.max(1, cores - 1);
}

function integer(
  key: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${key}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** Returns the origin of a URL, or throws naming the key. */
export function originOf(key: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${key}: expected an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`${key}: expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return url.origin;
}

function resolveToken(
  options: TokenOptions | undefined,
  publicOrigin: string,
): LatchkeyConfig['token'] {
  if (!options) throw new ConfigError('token: token mode needs token.keys (private signing JWKs)');
  const algorithm = options.algorithm ?? 'EdDSA';
  if (algorithm !== 'EdDSA' && algorithm !== 'ES256') {
    throw new ConfigError(
      `token.algorithm: expected "EdDSA" or "ES256", got ${JSON.stringify(algorithm)}`,
    );
  }
  let keys: KeySet;
  try {
    keys = createKeySet(options.keys, algorithm);
  } catch (error) {
    throw new ConfigError(`token.${error instanceof Error ? error.message : 'keys: invalid'}`);
  }
  const accessTtlMs = duration('token.accessTtl', options.accessTtl, '10m');
  if (accessTtlMs > 3_600_000) throw new ConfigError('token.accessTtl: must not be above 1h');
  if (accessTtlMs < 1000) throw new ConfigError('token.accessTtl: must be at least 1s');
  return Object.freeze({
    keys,
    accessTtlMs,
    refreshRetryWindowMs: duration('token.refreshRetryWindow', options.refreshRetryWindow, '10s'),
    statelessAccess: options.statelessAccess === true,
    issuer: options.issuer ?? publicOrigin,
    audience: options.audience ?? publicOrigin,
  });
}

/** Validates options once and returns the frozen config. Throws `ConfigError`. */
export function resolveConfig(options: LatchkeyOptions): LatchkeyConfig {
  if (typeof options.store !== 'object' || options.store === null) {
    throw new ConfigError('store: a Latchkey store is required');
  }
  const secrets: readonly string[] = Array.isArray(options.secrets)
    ? [...(options.secrets as string[])]
    : [];
  if (secrets.length === 0) {
    throw new ConfigError('secrets: at least one cookie-signing secret is required');
  }
  secrets.forEach((secret, i) => {
    if (typeof secret !== 'string' || secret.length < 32) {
      throw new ConfigError(`secrets[${i}]: each secret must be at least 32 characters`);
    }
  });
  const mode = options.mode ?? 'session';
  if (mode !== 'session' && mode !== 'token') {
    throw new ConfigError(`mode: expected "session" or "token", got ${JSON.stringify(mode)}`);
  }
  const publicOrigin = originOf('publicUrl', options.publicUrl);
  const token = mode === 'token' ? resolveToken(options.token, publicOrigin) : null;
  const allowedOrigins = new Set([
    publicOrigin,
    ...(options.origins ?? []).map((o, i) => originOf(`origins[${i}]`, o)),
  ]);
  const basePath = options.basePath ?? '/auth';
  if (!/^\/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$/.test(basePath)) {
    throw new ConfigError(`basePath: expected a path like /auth, got ${JSON.stringify(basePath)}`);
  }

  const idleTimeoutMs = duration('session.idleTimeout', options.session?.idleTimeout, '30m');
  const absoluteTimeoutMs = duration(
    'session.absoluteTimeout',
    options.session?.absoluteTimeout,
    '12h',
  );
  if (idleTimeoutMs > absoluteTimeoutMs) {
    throw new ConfigError('session.idleTimeout: must not be longer than session.absoluteTimeout');
  }
  const touchIntervalMs = Math.min(
    duration('session.touchInterval', options.session?.touchInterval, '1m'),
    Math.floor(idleTimeoutMs / 2),
  );

  const passwordMaxLength = integer(
    'password.maxLength',
    options.password?.maxLength,
    128,
    64,
    4096,
  );
  const passwordMinLength = integer(
    'password.minLength',
    options.password?.minLength,
    15,
    8,
    passwordMaxLength,
  );
  const hashConcurrency = integer(
    'password.hashConcurrency',
    options.password?.hashConcurrency,
    defaultHashConcurrency(),
    1,
    256,
  );
  const hashQueueLimit = integer(
    'password.hashQueueLimit',
    options.password?.hashQueueLimit,
    64,
    0,
    100_000,
  );
  const passwordMinScore = integer('password.minScore', options.password?.minScore, 3, 0, 4);
  const siteName = options.password?.siteName ?? 'Latchkey';
  if (typeof siteName !== 'string') throw new ConfigError('password.siteName: expected a string');
  const registerLimit = integer(
    'rateLimit.registerLimit',
    options.rateLimit?.registerLimit,
    10,
    1,
    1_000_000,
  );
  const loginLimit = integer('rateLimit.loginLimit', options.rateLimit?.loginLimit, 5, 1, 1000);
  const addressLimit = integer(
    'rateLimit.addressLimit',
    options.rateLimit?.addressLimit,
    loginLimit * 20,
    loginLimit,
    1_000_000,
  );
  const rateLimitWindowMs = duration('rateLimit.window', options.rateLimit?.window, '15m');

  const contentSecurityPolicy = options.headers?.contentSecurityPolicy ?? DEFAULT_CSP;
  for (const directive of REQUIRED_CSP_DIRECTIVES) {
    if (!contentSecurityPolicy.includes(directive)) {
      throw new ConfigError(`headers.contentSecurityPolicy: must include ${directive}`);
    }
  }
  if (!/(^|;)\s*default-src 'self'/.test(contentSecurityPolicy)) {
    throw new ConfigError("headers.contentSecurityPolicy: must include default-src 'self'");
  }
  const xssProtection = options.headers?.xssProtection ?? '0';
  if (xssProtection !== '0' && xssProtection !== '1; mode=block') {
    throw new ConfigError(`headers.xssProtection: expected "0" or "1; mode=block"`);
  }
  const clearSiteDataTypes = options.headers?.clearSiteData ?? ['storage'];
  for (const type of clearSiteDataTypes) {
    if (type !== 'storage' && type !== 'executionContexts') {
      throw new ConfigError(
        `headers.clearSiteData: expected "storage" or "executionContexts", got ${JSON.stringify(type)} ("cookies" reaches sibling sites, "cache" stalls Chromium)`,
      );
    }
  }
  const clearSiteData =
    clearSiteDataTypes.length > 0 ? clearSiteDataTypes.map((t) => `"${t}"`).join(', ') : null;
  const hstsMaxAge = integer(
    'headers.hstsMaxAge',
    options.headers?.hstsMaxAge,
    2 * ONE_YEAR_S,
    ONE_YEAR_S,
    10 * ONE_YEAR_S,
  );

  return Object.freeze({
    store: options.store,
    secrets: Object.freeze(secrets),
    publicOrigin,
    allowedOrigins,
    mode,
    token,
    basePath,
    idleTimeoutMs,
    absoluteTimeoutMs,
    touchIntervalMs,
    passwordMinLength,
    passwordMaxLength,
    hashConcurrency,
    hashQueueLimit,
    passwordMinScore,
    siteName,
    registerLimit,
    loginLimit,
    addressLimit,
    rateLimitWindowMs,
    contentSecurityPolicy,
    xssProtection,
    hstsMaxAge,
    clearSiteData,
    trustedProxies: integer('trustedProxies', options.trustedProxies, 0, 0, 16),
    bodyLimit: integer('bodyLimit', options.bodyLimit, 16_384, 1024, 1_048_576),
    logger: options.logger ?? jsonLineLogger,
    now: options.now ?? Date.now,
    unsafe: Object.freeze({
      disableCrossOriginCheck: options.unsafe?.disableCrossOriginCheck === true,
      disableCsrfToken: options.unsafe?.disableCsrfToken === true,
      sameSite: options.unsafe?.sameSite ?? 'Strict',
    }),
  });
}
