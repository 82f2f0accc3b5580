/** The public shape of the client: its options and its methods. */
import type {
  PublicUser,
  SessionListResponse,
  SessionResponse,
  TotpEnrolment,
} from '@latchkey/wire';

/** `session`: HttpOnly session cookie + CSRF header. `token`: in-memory bearer + refresh cookie. */
export type AuthMode = 'session' | 'token';

export interface AuthClientOptions {
  /** Must match the server's `LATCHKEY_MODE`. @default 'session' */
  mode?: AuthMode;
  /**
   * Origin and/or path prefix of the server (`https://api.example`, `/app`); credentials go
   * only to its origin. @default '' (the page's origin, no prefix)
   */
  baseUrl?: string;
  /**
   * Where the server mounts its auth routes (the server's `basePath`), under `baseUrl`: with
   * `'/api/auth'`, sign-in is `POST <baseUrl>/api/auth/login`. One or more `/segment`s of
   * letters, digits, `_` and `-`; anything else throws a `TypeError` here. @default '/auth'
   */
  basePath?: string;
  /** The fetch implementation, injectable for tests. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * The clock, injectable for tests. Only differences between two readings are used (token
   * lifetimes come from the server), so a browser clock that is off cannot cause refresh loops.
   * @default Date.now
   */
  now?: () => number;
  /**
   * The BroadcastChannel the app's tabs talk on (the Web Lock is named `<channelName>-refresh`);
   * `false` keeps this client to itself. @default 'latchkey'
   */
  channelName?: string | false;
  /**
   * Called when an auth route answers `401 reauth_required` (a sensitive action needs a fresh
   * proof of identity): ask the person (e.g. a dialog that calls `reauth()`) and resolve
   * `true` to send the request once more, `false` to let it fail with that error.
   * @default none: the error is thrown
   */
  onReauthRequired?: () => Promise<boolean>;
}

/** Routes below are under the `basePath` option (default `/auth`). */
export interface AuthClient {
  readonly mode: AuthMode;
  /**
   * Finds out who is signed in, once, on page load: in token mode a silent `POST /auth/refresh`
   * (a signed-out page answers `null`, quietly), in session mode `GET /auth/session`.
   */
  start(): Promise<PublicUser | null>;
  /** `POST /auth/register`; signs the new user in (in every tab). */
  register(input: { email: string; password: string; name?: string }): Promise<PublicUser>;
  /**
   * `POST /auth/login`; signs in every tab. For an account with a second factor it throws
   * `LatchkeyError` `mfa_required` (no session yet): finish with `loginMfa()`.
   */
  login(input: { email: string; password: string }): Promise<PublicUser>;
  /** `POST /auth/login/mfa`: the second step, a TOTP code or a recovery code; signs in every tab. */
  loginMfa(proof: { code: string } | { recoveryCode: string }): Promise<PublicUser>;
  /** `POST /auth/reauth`: a fresh proof (password or TOTP code) for 5 minutes of sensitive actions. */
  reauth(proof: { password: string } | { code: string }): Promise<void>;
  /** `POST /auth/mfa/totp`: a new seed to show (QR code); not active until `confirmTotp`. */
  enrolTotp(): Promise<TotpEnrolment>;
  /** `POST /auth/mfa/totp/confirm`: switches TOTP on; the recovery codes, shown this once. */
  confirmTotp(code: string): Promise<string[]>;
  /** `DELETE /auth/mfa/totp`. */
  disableTotp(): Promise<void>;
  /** `DELETE /auth/account`: deletes the account for good and signs out every tab. */
  deleteAccount(): Promise<void>;
  /**
   * `POST`s `body` to another route that answers like `/login` (`{ user }`, and in token mode
   * the access token), e.g. a passkey assertion to `/passkeys/login` (`path` is under
   * `basePath`); signs in every tab. `@latchkey/client/passkeys` uses it.
   */
  signInWith(path: string, body: unknown): Promise<PublicUser>;
  /** `POST /auth/logout`: revokes the session server-side and signs out every tab. */
  logout(): Promise<void>;
  /**
   * `POST /auth/oidc/logout` (a server with an OpenID provider): revokes the session and
   * signs out every tab like `logout()`, and resolves with where the page should go next:
   * the provider's end-session page when the session came from the provider (navigate
   * there, or the provider keeps the user signed in for the next "Sign in with…"), else
   * the server's post-logout URL (the app's own page).
   */
  logoutWithProvider(): Promise<string>;
  /** `GET /auth/session`; `null` when signed out (`unauthenticated` or `session_expired`). */
  session(): Promise<SessionResponse | null>;
  /** `GET /auth/sessions`: the caller's sessions on every device. */
  sessions(): Promise<SessionListResponse>;
  /** `DELETE /auth/sessions/:id`; revoking the current session signs out. */
  revokeSession(id: string): Promise<void>;
  /** `DELETE /auth/sessions`: every session except this one. */
  revokeOtherSessions(): Promise<void>;
  /** `POST /auth/password`; this session continues under a new id, all others end. */
  changePassword(input: { currentPassword: string; newPassword: string }): Promise<void>;
  /** `POST /auth/password/forgot`: resolves (202) whether or not the account exists. */
  forgotPassword(email: string): Promise<void>;
  /**
   * `POST /auth/password/reset` with the token from a `/reset#token=…` link. Every session of
   * the account ends and none starts: sign in afterwards. An account with a second factor
   * needs `code` or `recoveryCode` (without one: `invalid_request`, the link still works).
   */
  resetPassword(input: {
    token: string;
    newPassword: string;
    code?: string;
    recoveryCode?: string;
  }): Promise<void>;
  /** `POST /auth/email/verify/send`: mails the signed-in user a verification link. */
  sendVerification(): Promise<void>;
  /** `POST /auth/email/verify` with the token from a `/verify#token=…` link. */
  verifyEmail(token: string): Promise<void>;
  /**
   * `fetch` for the app's own API. Session mode: unsafe methods (POST, PUT, PATCH, DELETE)
   * carry the `X-CSRF-Token` header, and one `403 csrf_failed` is retried with a fresh token.
   * Token mode: every request carries `Authorization: Bearer`, and one `401` is retried after a
   * refresh. Credentials go only to the server's own origin. Answers are returned as they are
   * (check `response.ok`; `LatchkeyError.fromResponse` reads an error body); a `401` that ends
   * the session also notifies `onChange`. A string path starting with `/` is prefixed with
   * `baseUrl`; a string or `URL` is then resolved as fetch resolves it (against the page), the
   * origin checked, and the resolved URL sent.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /**
   * Calls `listener` whenever the signed-in user changes; returns the unsubscribe.
   * Safe to pass around unbound (e.g. to React's `useSyncExternalStore`).
   */
  onChange: (listener: (user: PublicUser | null) => void) => () => void;
  /** The last known user: `undefined` until the first answer says either way. Unbound-safe. */
  getUser: () => PublicUser | null | undefined;
  /** Stops timers and cross-tab messages (tests, hot reload). The client stays usable. */
  close(): void;
}
