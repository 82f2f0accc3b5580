import { jsonLineLogger, type SecurityLogger } from './log.js';
import { resolveOidc, type OidcConfig } from './config/oidc.js';
import { DEFAULT_MAIL_TEMPLATES, type Mailer, type MailTemplates } from './mail.js';
import { createKeySet, type KeySet } from './token/keys.js';
import {
  ConfigError,
  defaultHashConcurrency,
  duration,
  integer,
  originOf,
} from './config/checks.js';
import type { LatchkeyOptions, Mode, TokenOptions, UnsafeOptions } from './config/options.js';
import type { LatchkeyStore } from './stores/types.js';

export { ConfigError, originOf } from './config/checks.js';
export type * from './config/options.js';

/** `MailOptions`, checked and defaulted. */
export interface ResolvedMail {
  readonly mailer: Mailer;
  readonly templates: MailTemplates;
  readonly resetTtlMs: number;
  readonly verifyTtlMs: number;
  readonly limit: number;
  readonly addressLimit: number;
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
  /** Sign-in through an OpenID provider (backend for frontend); null when off. */
  readonly oidc: OidcConfig | null;
  /** Password reset and email verification; null when no mailer is configured. */
  readonly mail: ResolvedMail | null;
  /** The app's account-deletion hook, made async; null when none. */
  readonly onAccountDeleted: ((userId: string) => Promise<void>) | null;
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

/** Options as `checkOptions` takes them: everything but the store and key material. */
export type OptionsWithoutKeys = Omit<LatchkeyOptions, 'store' | 'secrets' | 'token'> & {
  token?: Omit<TokenOptions, 'keys'>;
};

/** Key material is checked only when `withKeys` (createLatchkey), not by `checkOptions`. */
function resolveToken(
  options: Partial<TokenOptions> | undefined,
  publicOrigin: string,
  withKeys: boolean,
): LatchkeyConfig['token'] {
  if (withKeys && !options?.keys) {
    throw new ConfigError('token: token mode needs token.keys (private signing JWKs)');
  }
  const algorithm = options?.algorithm ?? 'EdDSA';
  if (algorithm !== 'EdDSA' && algorithm !== 'ES256') {
    throw new ConfigError(
      `token.algorithm: expected "EdDSA" or "ES256", got ${JSON.stringify(algorithm)}`,
    );
  }
  let keys = null as unknown as KeySet;
  try {
    if (withKeys) keys = createKeySet(options?.keys ?? [], algorithm);
  } catch (error) {
    throw new ConfigError(`token.${error instanceof Error ? error.message : 'keys: invalid'}`);
  }
  const accessTtlMs = duration('token.accessTtl', options?.accessTtl, '10m');
  if (accessTtlMs > 3_600_000) throw new ConfigError('token.accessTtl: must not be above 1h');
  if (accessTtlMs < 1000) throw new ConfigError('token.accessTtl: must be at least 1s');
  return Object.freeze({
    keys,
    accessTtlMs,
    refreshRetryWindowMs: duration('token.refreshRetryWindow', options?.refreshRetryWindow, '10s'),
    statelessAccess: options?.statelessAccess === true,
    issuer: options?.issuer ?? publicOrigin,
    audience: options?.audience ?? publicOrigin,
  });
}

/** Validates options once and returns the frozen config. Throws `ConfigError`. */
export function resolveConfig(options: LatchkeyOptions): LatchkeyConfig {
  if (typeof options.store !== 'object' || options.store === null) {
    throw new ConfigError('store: a Latchkey store is required');
  }
  return resolve(options, true);
}

/**
 * Validates every option but the store and the key material, by the same rules as
 * `createLatchkey`: so a configuration reader (the environment, a CLI) can refuse a
 * bad value before it opens a database or generates keys. Throws `ConfigError`.
 */
export function checkOptions(options: OptionsWithoutKeys): void {
  resolve({ ...options, store: null, secrets: [] } as unknown as LatchkeyOptions, false);
}

function resolve(options: LatchkeyOptions, withKeys: boolean): LatchkeyConfig {
  const secrets: readonly string[] = Array.isArray(options.secrets)
    ? [...(options.secrets as string[])]
    : [];
  if (withKeys && secrets.length === 0) {
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
  const token = mode === 'token' ? resolveToken(options.token, publicOrigin, withKeys) : null;
  const allowedOrigins = new Set([
    publicOrigin,
    ...(options.origins ?? []).map((o, i) => originOf(`origins[${i}]`, o)),
  ]);
  const basePath = options.basePath ?? '/auth';
  if (!/^(\/[A-Za-z0-9_-]+)+$/.test(basePath)) {
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
    oidc: resolveOidc(options.oidc, publicOrigin, basePath),
    onAccountDeleted: accountDeletedHook(options.onAccountDeleted),
    mail: resolveMail(options.mail),
    unsafe: Object.freeze({
      disableCrossOriginCheck: options.unsafe?.disableCrossOriginCheck === true,
      disableCsrfToken: options.unsafe?.disableCsrfToken === true,
      sameSite: options.unsafe?.sameSite ?? 'Strict',
    }),
  });
}

function accountDeletedHook(
  hook: LatchkeyOptions['onAccountDeleted'],
): LatchkeyConfig['onAccountDeleted'] {
  if (hook === undefined) return null;
  if (typeof hook !== 'function') {
    throw new ConfigError('onAccountDeleted: expected a function (userId) => Promise<void>');
  }
  return async (userId) => {
    await hook(userId);
  };
}

function resolveMail(mail: LatchkeyOptions['mail']): ResolvedMail | null {
  if (mail === undefined) return null;
  if (typeof mail?.mailer?.send !== 'function') {
    throw new ConfigError('mail.mailer: expected an object with send(message)');
  }
  const templates = { ...DEFAULT_MAIL_TEMPLATES, ...mail.templates };
  for (const [name, template] of Object.entries(templates)) {
    if (typeof template !== 'function') {
      throw new ConfigError(`mail.templates.${name}: expected a function (values) => message`);
    }
  }
  const resetTtlMs = duration('mail.resetTtl', mail.resetTtl, '30m');
  if (resetTtlMs > 3_600_000) throw new ConfigError('mail.resetTtl: must not be above 1h');
  return Object.freeze({
    mailer: mail.mailer,
    templates: Object.freeze(templates),
    resetTtlMs,
    verifyTtlMs: duration('mail.verifyTtl', mail.verifyTtl, '24h'),
    limit: integer('mail.limit', mail.limit, 5, 1, 1_000_000),
    addressLimit: integer('mail.addressLimit', mail.addressLimit, 50, 1, 1_000_000),
  });
}
