/**
 * What differs between the two modes, as one interface: `session-mode.ts` and `token-mode.ts`
 * each build it from the shared parts, and `index.ts` composes the public client over it.
 */
import type { PublicUser, SessionResponse } from '@latchkey/wire';
import type { TabMessage, Tabs } from './tabs.js';
import type { Credential, Transport } from './transport.js';
import type { Who } from './user.js';

/** The parts both modes are built from. */
export interface Parts {
  transport: Transport;
  tabs: Tabs;
  who: Who;
  now: () => number;
  /** The client's `session()`: `GET /session` (session mode reads the CSRF token from it). */
  session: () => Promise<SessionResponse | null>;
  /** Forgets every credential in this tab (an answer said the session is over). */
  ended: () => void;
}

export interface Mode {
  /** What `fetch()` and the auth routes attach: the CSRF header, or the bearer token. */
  readonly credential: Credential;
  /** Who is signed in, asked once on page load. */
  start(): Promise<PublicUser | null>;
  /** `POST` a sign-in route (`/login`, `/register`); takes the new credential, tells the tabs. */
  signIn(path: string, body: unknown): Promise<PublicUser>;
  /**
   * `POST` to `path` (`/logout`, or `/oidc/logout`), then `over()` (forget the credential, tell the other tabs). Token mode
   * runs both holding the refresh lock: a tab queued for the lock must hear "signed out"
   * before it can take the lock and refresh with the cookie this just revoked.
   */
  logout(over: () => void, path: string): Promise<Response>;
  /** `POST /password`, and whatever the new session needs. */
  changePassword(input: { currentPassword: string; newPassword: string }): Promise<void>;
  /** Before `GET /session`: `false` when nobody is signed in, so there is nothing to ask. */
  ready?: () => Promise<boolean>;
  /** `GET /session` answered. */
  read?: (body: SessionResponse) => void;
  /** A valid `in` or `token` message from another tab (`out` is the same in both modes). */
  receive(message: TabMessage): void;
  /** Repeats a refresh another tab began and never finished (see `Tabs.listen`). */
  redo?: () => Promise<unknown>;
  /** Drops the credential this mode keeps in memory. */
  forget(): void;
  /** Stops timers and listeners. */
  close(): void;
}
