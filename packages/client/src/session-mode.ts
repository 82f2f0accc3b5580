/**
 * Session mode: the credential is an HttpOnly cookie this code never sees. What the client
 * keeps is the session-bound CSRF token, in memory: fetched lazily from `GET /session` before
 * the first unsafe request (or taken from any `session()` call), shared by concurrent callers,
 * forgotten on sign-in, sign-out and password change, and fetched again once after a
 * `403 csrf_failed`.
 */
import type { UserResponse } from '@latchkey/wire';
import { CSRF_HEADER } from '@latchkey/wire';
import { errorCode } from './errors.js';
import type { Mode, Parts } from './mode.js';

/** The methods that change something, and so carry the CSRF header. */
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const noop = () => undefined;

export function sessionMode({ transport, tabs, who, session }: Parts): Mode {
  // The CSRF token, or the request that is fetching it (shared by concurrent callers).
  let csrf: Promise<string | undefined> | undefined;
  const csrfToken = () =>
    (csrf ??= session().then(
      (s) => s?.csrfToken,
      (error: unknown) => {
        csrf = undefined;
        throw error;
      },
    ));

  return {
    credential: {
      covers: (method) => UNSAFE.has(method),
      value: csrfToken,
      put: (headers, token) => headers.set(CSRF_HEADER, token),
      async check(response) {
        if (response.status !== 403 || (await errorCode(response)) !== 'csrf_failed') {
          return 'answer';
        }
        csrf = undefined;
        return { retry: await csrfToken() };
      },
    },
    start: () => session().then((s) => s?.user ?? null),
    async signIn(path, body) {
      // A new session: whatever token was cached belonged to the old one.
      csrf = undefined;
      const response = await transport.call('POST', path, body, { auth: false });
      const reply = (await response.json()) as UserResponse;
      tabs.post({ type: 'in' });
      return reply.user;
    },
    async logout(over, path) {
      const response = await transport.call('POST', path);
      over();
      return response;
    },
    async changePassword(input) {
      await transport.call('POST', '/password', input);
      // The session was re-issued under a new id, so its CSRF token changed too.
      csrf = undefined;
      who.sessionId = undefined;
    },
    read(body) {
      csrf = Promise.resolve(body.csrfToken);
    },
    receive(message) {
      if (message.type === 'in') void session().catch(noop);
    },
    forget() {
      csrf = undefined;
    },
    close: noop,
  };
}
