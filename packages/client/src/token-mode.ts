/**
 * Token mode: every request to the server carries the in-memory access token as
 * `Authorization: Bearer` and one `401` is retried after a refresh; everything that can
 * replace the refresh cookie (sign-in, sign-out, password change) holds the refresh lock, so
 * no refresh in another tab can race it.
 */
import type { TokenResponse, UserResponse } from '@latchkey/wire';
import type { Mode, Parts } from './mode.js';
import { errorCode, sessionOver } from './errors.js';
import { createTokenKeeper } from './token.js';

export function tokenMode({ transport, tabs, who, now, ended }: Parts): Mode {
  const keeper = createTokenKeeper({
    refresh: () => transport.raw(transport.route('/refresh'), { method: 'POST' }),
    now,
    tabs,
    who,
    ended,
  });

  return {
    credential: {
      covers: () => true,
      value: (locked) => keeper.bearer(locked),
      put: (headers, token) => headers.set('Authorization', `Bearer ${token}`),
      async check(response, sent, locked) {
        // Only a stale token is renewed: a 401 about the request itself (a wrong password,
        // `reauth_required`) is answered as it is, never sent twice.
        if (!sent || !sessionOver(response.status, await errorCode(response))) return 'answer';
        let fresh: string | undefined;
        try {
          // Another tab (or call) may have renewed it meanwhile; otherwise refresh, once.
          fresh = await keeper.after(sent, locked);
        } catch {
          return 'keep'; // offline or store down: not a reason to sign out
        }
        // No token: the refresh found the session over and said so.
        return fresh ? { retry: fresh } : 'keep';
      },
    },
    start: () =>
      keeper.live()
        ? Promise.resolve(who.user ?? null)
        : keeper.refresh().then(() => who.user ?? null),
    async signIn(path, body) {
      // Under the lock, so no refresh in flight can overwrite the new cookie.
      const response = await tabs.withLock(() =>
        transport.call('POST', path, body, { auth: false }),
      );
      const reply = (await response.json()) as UserResponse | TokenResponse;
      if ('accessToken' in reply) keeper.take(response, reply);
      else tabs.post({ type: 'in' });
      return reply.user;
    },
    // Under the lock, so no tab is rotating the cookie this revokes; and the other tabs are
    // told before the lock is let go, so one queued for it does not refresh a revoked family.
    logout: (over, path) =>
      tabs.withLock(async () => {
        const response = await transport.call('POST', path, undefined, { locked: true });
        over();
        return response;
      }),
    changePassword: (input) =>
      // The server re-issues this session as a new refresh family (new cookie): get its
      // access token before any tab can refresh with the cookie the change revoked.
      tabs.withLock(async () => {
        await transport.call('POST', '/password', input, { locked: true });
        await keeper.rotate();
      }),
    // No token yet: the first refresh finds out whether anyone is signed in.
    ready: async () =>
      Boolean(await keeper.bearer(false)) ||
      (who.user === undefined && Boolean(await keeper.refresh())),
    receive(message) {
      if (message.type !== 'token') return;
      keeper.install(message.token, message.life, message.left);
      who.set(message.user);
    },
    redo: () => keeper.rotate(),
    forget: () => keeper.forget(),
    close: () => keeper.close(),
  };
}
