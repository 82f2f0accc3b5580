import type { Duration } from '../duration.js';
import type { OidcOptions } from './oidc.js';
import type { SecurityLogger } from '../log.js';
import type { Mailer, MailTemplates } from '../mail.js';
import type { LatchkeyStore } from '../stores/types.js';
import type { SigningAlgorithm, SigningJwk } from '../token/keys.js';

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
 * Password reset and email verification by mail (API.md, *Account recovery*). Without
 * it those routes answer `404 not_found` and no mail is sent.
 */
export interface MailOptions {
  /** Sends the messages; `@latchkey/cli/mail` has one over SMTP. Called after the answer. */
  mailer: Mailer;
  /** Replaces the built-in message templates, one or both. @default the built-in ones */
  templates?: Partial<MailTemplates>;
  /** How long a reset link works. @default '30m' */
  resetTtl?: Duration;
  /** How long a verification link works. @default '24h' */
  verifyTtl?: Duration;
  /**
   * Reset requests per email address, and verification mails per account, per hour
   * before `429`. @default 5
   */
  limit?: number;
  /** Reset requests per client address per hour before `429`. @default 50 */
  addressLimit?: number;
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
  /** Password reset and email verification mail; see `MailOptions`. @default none (routes 404) */
  mail?: MailOptions;
  /** Sign-in through an OpenID provider (backend for frontend); see `OidcOptions`. @default none */
  oidc?: OidcOptions;
  /** Defences switched off; see `UnsafeOptions`. @default {} */
  unsafe?: UnsafeOptions;
  /**
   * Called when an account is deleted (by its owner, `DELETE /auth/account`, or by the
   * operator), after its sessions are revoked and before the user record goes: delete
   * the app's own data about the user here. If it throws, the account is kept (signed
   * out everywhere) and the deletion can simply be repeated. @default none
   */
  onAccountDeleted?: (userId: string) => Promise<void> | void;
}

export type { OidcOptions, UpstreamOptions } from './oidc.js';
