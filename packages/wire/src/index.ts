/**
 * The wire types of the HTTP contract (API.md), shared by the server core and the
 * browser client so both sides agree on every error code and response shape.
 * This module must stay free of runtime imports: the client bundles it.
 */

/** The credential cookies (API.md *Credential cookies*): host-only, Path=/, Secure, HttpOnly. */
export const SESSION_COOKIE = '__Host-Http-session';
export const REFRESH_COOKIE = '__Host-Http-refresh';
export const DEVICE_COOKIE = '__Host-Http-device';
/** The pending two-step sign-in (password accepted, second factor awaited): 5 minutes, single use. */
export const MFA_COOKIE = '__Host-Http-mfa';
/**
 * A provider sign-in (`GET /auth/oidc/callback`) for an account with its own second
 * factor moves the browser to `returnTo#second-factor`: the pending cookie is set, and
 * the page asks for the code (`POST /auth/login/mfa`) as after a right password.
 */
export const SECOND_FACTOR_FRAGMENT = 'second-factor';

/** Every error code the server can answer with. */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthenticated'
  | 'invalid_credentials'
  | 'session_expired'
  | 'token_reused'
  | 'reauth_required'
  | 'invalid_token'
  | 'csrf_failed'
  | 'not_found'
  | 'email_taken'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'weak_password'
  | 'rate_limited'
  | 'internal_error'
  | 'store_unavailable'
  | 'overloaded'
  | 'upstream_unavailable';

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export interface PublicUser {
  id: string;
  email: string;
  name: string | null;
  createdAt: string;
  /** Whether the user proved they receive mail at `email`. */
  emailVerified: boolean;
  /** The second factors the user has on, e.g. `["totp", "passkey"]`. */
  mfa: string[];
}

export interface SessionInfo {
  id: string;
  createdAt: string;
  expiresAt: string;
  idleExpiresAt: string;
}

export interface SessionResponse {
  user: PublicUser;
  session: SessionInfo;
  csrfToken?: string;
}

export interface SessionListItem {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

export interface SessionListResponse {
  sessions: SessionListItem[];
}

export interface UserResponse {
  user: PublicUser;
}

/** Token mode: what login, register and refresh answer with. */
export interface TokenResponse extends UserResponse {
  accessToken: string;
  accessTokenExpiresAt: string;
}

/** The second factors `POST /auth/login/mfa` accepts. */
export type MfaMethod = 'totp' | 'recovery_code';

/** `POST /auth/login` for an account with a second factor: no session yet. */
export interface MfaRequiredResponse {
  mfaRequired: true;
  methods: MfaMethod[];
}

/** `POST /auth/mfa/totp`: the seed to enrol, not active until confirmed. */
export interface TotpEnrolment {
  /** Base32, as authenticator apps take it. */
  secret: string;
  otpauthUrl: string;
}

/** `POST /auth/mfa/totp/confirm`: shown once; the server keeps only their hashes. */
export interface RecoveryCodesResponse {
  recoveryCodes: string[];
}

/** Header that carries the session-bound anti-forgery token. */
export const CSRF_HEADER = 'X-CSRF-Token';
