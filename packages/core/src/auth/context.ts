import type { LatchkeyConfig } from '../config.js';
import { createSigner } from '../crypto.js';
import { createDeviceCookies, type DeviceCookies } from '../device.js';
import type { LatchkeyError } from '../errors.js';
import type { SecurityEvent } from '../log.js';
import { createSecretBox, type SecretBox } from '../seal.js';
import { createPasswordHasher, type PasswordHasher } from '../password.js';
import { createSessionStrategy, type ClientInfo, type SessionStrategy } from '../session.js';
import type { LatchkeyStore, SessionRecord } from '../stores/types.js';
import { createAccessTokens, type AccessTokens } from '../token/access.js';
import { createRefreshStrategy, type RefreshStrategy } from '../token/refresh.js';
import { createAuthLimits, type AuthLimits } from './limits.js';
import { createMailContext, type MailContext } from './recovery.js';

/**
 * Everything an operation may use, built once by `createLatchkey`. Operations are the
 * only code that calls the store (already guarded: a fault is `store_unavailable`).
 * Nothing here knows HTTP: an operation gets values and returns a result.
 */
export interface AuthContext {
  readonly store: LatchkeyStore;
  /** Session mode: sessions behind the session cookie. */
  readonly sessions: SessionStrategy;
  /** Token mode: access tokens and refresh families; null in session mode. */
  readonly tokens: { readonly access: AccessTokens; readonly refresh: RefreshStrategy } | null;
  readonly passwords: PasswordHasher;
  readonly devices: DeviceCookies;
  readonly limits: AuthLimits;
  readonly policy: PasswordPolicy;
  /** Token mode: skip the session-liveness read for bearer tokens. */
  readonly statelessAccess: boolean;
  readonly log: (event: SecurityEvent) => void;
  readonly now: () => number;
  /** Second factors: encrypts TOTP seeds at rest (AES-256-GCM, key from the secrets). */
  readonly factorSecrets: SecretBox;
  /** The app's hook for its own data about a deleted account (see `onAccountDeleted`). */
  readonly onAccountDeleted: ((userId: string) => Promise<void>) | null;
  /** Password reset and email verification mail; null when no mailer is configured. */
  readonly mail: MailContext | null;
}

export interface PasswordPolicy {
  readonly minLength: number;
  readonly maxLength: number;
  readonly minScore: number;
  readonly siteName: string;
}

/** What an operation learns about the caller from the transport. */
export interface Caller {
  readonly client: ClientInfo;
  /** The credential cookie the request carried (session or refresh), if any. */
  readonly presented: string | null;
}

/** The caller, once authenticated. */
export interface Principal {
  readonly userId: string;
  /** The session (session mode) or refresh family (token mode). */
  readonly sessionId: string;
  /** Session mode: loaded while authenticating; token mode: null. */
  readonly session: SessionRecord | null;
}

/** An expected failure is a value; only faults (store unreachable) throw. */
export type Result<T> = ({ ok: true } & T) | { ok: false; error: LatchkeyError };

/** The operations' context: strategies and limits over the guarded store, built once. */
export function createAuthContext(
  config: LatchkeyConfig,
  /** The store, already behind the fail-closed guard. */
  store: LatchkeyStore,
  log: (event: SecurityEvent) => void,
): AuthContext {
  const signer = createSigner(config.secrets);
  const tokens = config.token
    ? {
        access: createAccessTokens({
          keys: config.token.keys,
          issuer: config.token.issuer,
          audience: config.token.audience,
          ttlMs: config.token.accessTtlMs,
          now: config.now,
        }),
        refresh: createRefreshStrategy(store, signer, {
          ...config,
          retryWindowMs: config.token.refreshRetryWindowMs,
        }),
      }
    : null;
  return {
    store,
    sessions: createSessionStrategy(store, signer, config),
    tokens,
    passwords: createPasswordHasher({
      concurrency: config.hashConcurrency,
      maxWaiting: config.hashQueueLimit,
      onOverload: (waiting) => log({ event: 'hashing_overloaded', waiting }),
    }),
    devices: createDeviceCookies(signer, config.now),
    limits: createAuthLimits(store.rateLimits, {
      loginLimit: config.loginLimit,
      addressLimit: config.addressLimit,
      registerLimit: config.registerLimit,
      windowMs: config.rateLimitWindowMs,
    }),
    policy: {
      minLength: config.passwordMinLength,
      maxLength: config.passwordMaxLength,
      minScore: config.passwordMinScore,
      siteName: config.siteName,
    },
    statelessAccess: config.token?.statelessAccess ?? false,
    log,
    now: config.now,
    factorSecrets: createSecretBox(config.secrets, 'second-factor'),
    onAccountDeleted: config.onAccountDeleted,
    mail: createMailContext(config, store.rateLimits),
  };
}
