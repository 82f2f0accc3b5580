import type { DeviceCookies } from '../device.js';
import type { LatchkeyError } from '../errors.js';
import type { SecurityEvent } from '../log.js';
import type { PasswordHasher } from '../password.js';
import type { ClientInfo, SessionStrategy } from '../session.js';
import type { LatchkeyStore, SessionRecord } from '../stores/types.js';
import type { AccessTokens } from '../token/access.js';
import type { RefreshStrategy } from '../token/refresh.js';
import type { AuthLimits } from './limits.js';

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
