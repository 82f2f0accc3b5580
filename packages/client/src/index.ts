/**
 * The Latchkey browser client: sign-in calls, the session, and a `fetch` wrapper for the
 * app's own API. Browser-only, no dependencies, injectable fetch and clock.
 *
 * This file composes the parts, each in its own module:
 * - `transport.ts`: where a request goes (same origin or not), the credential on it, one retry;
 * - `session-mode.ts`: the CSRF token (session mode);
 * - `token-mode.ts` over `token.ts`: the in-memory access token and its renewal (token mode);
 * - `tabs.ts`: the cross-tab protocol (Web Locks, BroadcastChannel, validated messages);
 * - `user.ts`: who is signed in, and who listens; `errors.ts`: `LatchkeyError`.
 */
import type { PublicUser, SessionListResponse, SessionResponse } from '@latchkey/wire';
import { LatchkeyError, sessionOver } from './errors.js';
import type { Mode, Parts } from './mode.js';
import { sessionMode } from './session-mode.js';
import { createTabs } from './tabs.js';
import { tokenMode } from './token-mode.js';
import { createTransport } from './transport.js';
import type { AuthClient, AuthClientOptions } from './types.js';
import { createWho } from './user.js';

export type {
  PublicUser,
  SessionInfo,
  SessionListItem,
  SessionListResponse,
  SessionResponse,
  TokenResponse,
  TotpEnrolment,
} from '@latchkey/wire';
export { CSRF_HEADER, SECOND_FACTOR_FRAGMENT } from '@latchkey/wire';
export { LatchkeyError, type ErrorCode } from './errors.js';
export type { AuthClient, AuthClientOptions, AuthMode } from './types.js';

/**
 * Creates a client for one Latchkey server. Every request is sent with
 * `credentials: 'same-origin'`; failures throw `LatchkeyError`. Options are read once, here;
 * an invalid `basePath` throws a `TypeError`.
 */
export function createAuthClient(options: AuthClientOptions = {}): AuthClient {
  const mode = options.mode ?? 'session';
  const who = createWho();
  // First, as it checks `basePath`: a client that throws here has opened no channel yet. The
  // transport attaches the mode's credential, and the mode sends through the transport, so the
  // credential is looked up per request (once `strategy` below exists).
  const transport = createTransport({
    baseUrl: options.baseUrl ?? '',
    basePath: options.basePath ?? '/auth',
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    credential: () => strategy.credential,
    ended: () => signedOut(),
    reauth: options.onReauthRequired,
  });
  const tabs = createTabs(options.channelName ?? 'latchkey', mode === 'token');
  const parts: Parts = {
    transport,
    tabs,
    who,
    now: options.now ?? (() => Date.now()),
    session,
    ended: () => signedOut(),
  };
  const strategy: Mode = mode === 'token' ? tokenMode(parts) : sessionMode(parts);
  let starting: Promise<PublicUser | null> | undefined;

  /** Forgets every credential; `tell` signs out the other tabs too. */
  function signedOut(tell = false) {
    if (tell) tabs.post({ type: 'out' });
    strategy.forget();
    who.sessionId = undefined;
    who.set(null);
  }

  tabs.listen((message) => {
    if (message.type !== 'out') strategy.receive(message);
    else if (!message.sid || message.sid === who.sessionId) signedOut();
  }, strategy.redo);

  async function session(): Promise<SessionResponse | null> {
    if (strategy.ready && !(await strategy.ready())) return null;
    let response: Response;
    try {
      response = await transport.call('GET', '/session');
    } catch (error) {
      if (!(error instanceof LatchkeyError) || !sessionOver(error.status, error.code)) throw error;
      signedOut();
      return null;
    }
    const body = (await response.json()) as SessionResponse;
    strategy.read?.(body);
    who.sessionId = body.session.id;
    who.set(body.user);
    return body;
  }

  const anonymous = async (path: string, body: unknown) => {
    await transport.call('POST', path, body, { auth: false });
  };

  const signIn = async (path: string, body: unknown) => {
    const user = await strategy.signIn(path, body);
    // `{ mfaRequired }`: the password was right, the second factor is still to come.
    if (!user) throw new LatchkeyError('mfa_required', 200, 'Enter your authentication code.');
    who.set(user, true);
    return user;
  };
  const json = async <T>(method: string, path: string) =>
    (await (await transport.call(method, path)).json()) as T;

  return {
    mode,
    start: () =>
      (starting ??= strategy.start().finally(() => {
        starting = undefined;
      })),
    register: (input) => signIn('/register', input),
    login: (input) => signIn('/login', input),
    loginMfa: (proof) => signIn('/login/mfa', proof),
    async reauth(proof) {
      await transport.call('POST', '/reauth', proof);
    },
    enrolTotp: () => json('POST', '/mfa/totp'),
    confirmTotp: async (code) =>
      (
        (await (await transport.call('POST', '/mfa/totp/confirm', { code })).json()) as {
          recoveryCodes: string[];
        }
      ).recoveryCodes,
    async disableTotp() {
      await transport.call('DELETE', '/mfa/totp');
    },
    async deleteAccount() {
      await transport.call('DELETE', '/account');
      signedOut(true);
    },
    signInWith: signIn,
    async logout() {
      await strategy.logout(() => signedOut(true), '/logout');
    },
    async logoutWithProvider() {
      const response = await strategy.logout(() => signedOut(true), '/oidc/logout');
      return ((await response.json()) as { redirectTo: string }).redirectTo;
    },
    session,
    async sessions() {
      return (await (await transport.call('GET', '/sessions')).json()) as SessionListResponse;
    },
    async revokeSession(id) {
      await transport.call('DELETE', `/sessions/${encodeURIComponent(id)}`);
      if (id === who.sessionId) signedOut(true);
    },
    async revokeOtherSessions() {
      await transport.call('DELETE', '/sessions');
    },
    changePassword: (input) => strategy.changePassword(input),
    // A link may be opened signed out, or as someone else: no credential goes with these.
    forgotPassword: (email) => anonymous('/password/forgot', { email }),
    resetPassword: (input) => anonymous('/password/reset', input),
    async sendVerification() {
      await transport.call('POST', '/email/verify/send');
    },
    verifyEmail: (token) => anonymous('/email/verify', { token }),
    fetch: (input, init = {}) => transport.send(input, init),
    onChange: who.onChange,
    getUser: () => who.user,
    close() {
      strategy.close();
      tabs.close();
    },
  };
}
