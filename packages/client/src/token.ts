/**
 * The token keeper (token mode): the access token lives in this closure and nowhere else —
 * never Web Storage, IndexedDB, a cookie, a global or a URL. It is renewed before it expires
 * (timings on the server's clock, see `lifetime.ts`), again when a sleeping tab wakes up, and
 * one refresh at a time: in this tab by sharing the promise, across tabs by the lock.
 */
import type { TokenResponse } from '@latchkey/wire';
import { LatchkeyError, sessionOver } from './errors.js';
import { claims, lifetime } from './lifetime.js';
import type { Tabs } from './tabs.js';
import type { Who } from './user.js';

export interface TokenKeeperOptions {
  /** Sends `POST <basePath>/refresh`: the refresh cookie goes with it, nothing is attached. */
  refresh: () => Promise<Response>;
  now: () => number;
  tabs: Tabs;
  who: Who;
  /** A refresh found the session over: forget every credential in this tab. */
  ended: () => void;
}

export interface TokenKeeper {
  /** The token to send: waits for a refresh in flight; renews one that expired (sleep). */
  bearer(locked: boolean): Promise<string | undefined>;
  /** After `sent` met a `401`: a token another tab (or call) got meanwhile, else one refresh. */
  after(sent: string, locked: boolean): Promise<string | undefined>;
  /** One refresh at a time: in this tab by sharing the promise, across tabs by the lock. */
  refresh(): Promise<string | undefined>;
  /** `POST /refresh` now; the caller holds the lock. Resolves to the token, none if signed out. */
  rotate(): Promise<string | undefined>;
  /** Takes the token a server answer carries (sign-in, refresh) and hands it to the other tabs. */
  take(response: Response, body: TokenResponse): void;
  /** Takes a token: its lifetime and how much of that is left, in ms. */
  install(token: string, life: number, left: number): void;
  /** Whether a token is held that has not expired. */
  live(): boolean;
  /** Drops the token and its timer. */
  forget(): void;
  /** Stops the timer and the wake-up listeners (the keeper stays usable). */
  close(): void;
}

const noop = () => undefined;
const WAKE = ['pageshow', 'online', 'focus'];

export function createTokenKeeper(options: TokenKeeperOptions): TokenKeeper {
  const { now, tabs, who, ended } = options;
  let access: string | undefined;
  let life = 0; // its lifetime, by the server's clock (ms)
  let expires = 0; // now() at which it expires
  let due = 0; // now() at which to renew it
  let generation = 0; // bumped whenever `access` changes
  let timer: ReturnType<typeof setTimeout> | undefined;
  let backoff = 0;
  let refreshing: Promise<string | undefined> | undefined;

  /** Plans the next refresh: at 80% of the lifetime, or 30 s before expiry if that is earlier. */
  const schedule = (delay?: number) => {
    clearTimeout(timer);
    if (delay === undefined) {
      if (!access) return;
      due = expires - Math.min(Math.max(life / 5, 30_000), life / 2);
      // A little jitter, so that of many tabs one renews first and hands the token to the rest.
      delay = Math.max(due - now(), 500) * (0.9 + Math.random() * 0.1);
    }
    timer = setTimeout(() => void refresh().catch(noop), delay);
  };

  const install = (token: string, lifeMs: number, leftMs: number) => {
    access = token;
    life = lifeMs;
    expires = now() + leftMs;
    generation += 1;
    backoff = 0;
    who.sessionId = claims(token).sid;
    tabs.settle();
    schedule();
  };

  const take = (response: Response, body: TokenResponse) => {
    const ms = lifetime(response, body);
    install(body.accessToken, ms, ms);
    tabs.post({ type: 'token', token: body.accessToken, user: body.user, life: ms, left: ms });
  };

  /** `POST /auth/refresh`, holding the lock; tells the other tabs before and after. */
  const rotate = async (): Promise<string | undefined> => {
    tabs.post({ type: 'refreshing' });
    let told = false;
    try {
      const response = await options.refresh();
      if (response.ok) {
        const body = (await response.json()) as TokenResponse;
        take(response, body);
        told = true;
        who.set(body.user);
        return access;
      }
      const error = await LatchkeyError.fromResponse(response);
      if (!sessionOver(response.status, error.code)) throw error;
      // The family ended (or there never was one): a signed-in tab tells the others.
      const sid = who.sessionId;
      if (who.user) tabs.post({ type: 'out', sid });
      ended();
      return undefined;
    } catch (error) {
      // Offline or the store is down: keep the token (it may still be good) and try again
      // soon, while a response that was lost on the way is still inside the retry window.
      if (access || who.user) schedule((backoff = Math.min(backoff * 2 || 2000, 60_000)));
      throw error;
    } finally {
      if (!told) tabs.post({ type: 'done' });
      tabs.settle();
    }
  };

  const refresh = (): Promise<string | undefined> =>
    (refreshing ??= (async () => {
      const seen = generation;
      try {
        // If another tab refreshed (or signed out) while this one waited, take that outcome:
        // rotating the same cookie twice is what the lock is there to prevent.
        return await tabs.withLock(() =>
          generation === seen || (access && now() >= expires) ? rotate() : Promise.resolve(access),
        );
      } finally {
        refreshing = undefined;
      }
    })());

  /** Renews the token; `locked` when the caller already holds the lock. */
  const renew = (locked: boolean) => (locked ? rotate() : refresh());

  /** A tab that was asleep (or frozen, or offline) renews a token whose time has come. */
  const wake = () => {
    if (access && now() >= due && globalThis.document?.visibilityState !== 'hidden') {
      void refresh().catch(noop);
    }
  };
  const page = globalThis.document;
  page?.addEventListener('visibilitychange', wake);
  for (const type of WAKE) globalThis.addEventListener?.(type, wake);

  return {
    async bearer(locked) {
      if (refreshing && !locked) await refreshing.catch(noop);
      if (access && now() >= expires) await renew(locked).catch(noop);
      return access;
    },
    after(sent, locked) {
      // Signed out since the request left (another tab said so, or a refresh found the
      // session over): its 401 is that sign-out, and no refresh can mend it.
      if (access === undefined && who.user === null) return Promise.resolve(undefined);
      return access !== sent && now() < expires ? Promise.resolve(access) : renew(locked);
    },
    refresh,
    rotate,
    take,
    install,
    live: () => Boolean(access) && now() < expires,
    forget() {
      access = undefined;
      expires = due = 0;
      generation += 1;
      clearTimeout(timer);
    },
    close() {
      clearTimeout(timer);
      page?.removeEventListener('visibilitychange', wake);
      for (const type of WAKE) globalThis.removeEventListener?.(type, wake);
    },
  };
}
