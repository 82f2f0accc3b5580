/**
 * The cross-tab protocol: a Web Lock so that one tab at a time changes the refresh cookie, and
 * a BroadcastChannel on which tabs tell each other about sign-in, sign-out and fresh access
 * tokens (in memory: no storage is involved). Anything may arrive on a channel, so every
 * message is validated and a malformed one is ignored.
 */
import type { PublicUser } from '@latchkey/wire';
import { MAX_LIFE } from './lifetime.js';

/** An access token another tab got, with how long it lives and how much of that is left (ms). */
export interface TokenMessage {
  type: 'token';
  token: string;
  user: PublicUser;
  life: number;
  left: number;
}

/**
 * What tabs tell each other: `token` (a fresh access token), `refreshing` and `done` (a
 * refresh started and ended without a token), `in` (signed in, session mode), `out` (signed
 * out; with `sid`, only if that is the session this tab holds).
 */
export type TabMessage =
  TokenMessage | { type: 'refreshing' | 'done' | 'in' } | { type: 'out'; sid?: string | undefined };

const isUser = (value: unknown): value is PublicUser => {
  const user = value as Partial<Record<keyof PublicUser, unknown>> | null;
  return (
    typeof user === 'object' &&
    user !== null &&
    typeof user.id === 'string' &&
    typeof user.email === 'string' &&
    (user.name === null || typeof user.name === 'string') &&
    typeof user.createdAt === 'string'
  );
};

/** `data` as a message if it is a well-formed one, else `undefined`. */
export function parseMessage(data: unknown): TabMessage | undefined {
  const message = data as Partial<Record<keyof TokenMessage | 'sid', unknown>> | null;
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, sid, token, user, life, left } = message;
  if (type === 'refreshing' || type === 'done' || type === 'in') return { type };
  if (type === 'out') {
    return sid === undefined || typeof sid === 'string' ? { type, sid } : undefined;
  }
  if (
    type === 'token' &&
    typeof token === 'string' &&
    token !== '' &&
    isUser(user) &&
    typeof life === 'number' &&
    typeof left === 'number' &&
    left > 0 &&
    left <= life &&
    life <= MAX_LIFE
  ) {
    return { type, token, user, life, left };
  }
  return undefined;
}

export interface Tabs {
  /**
   * Runs `fn` holding the refresh lock: across tabs with the Web Locks API, or (without it, or
   * when built without `locking`) within this tab only.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Tells the other tabs (a closed channel or none: nobody hears). */
  post(message: TabMessage): void;
  /** A refresh ended here or in another tab: a tab waiting to redo an orphaned one stops. */
  settle(): void;
  /**
   * Takes the valid messages from other tabs: `done` and `refreshing` are handled here, the
   * rest go to `receive`. `redo`, holding the lock, repeats a refresh another tab announced and
   * never finished (it closed mid-refresh); only with cross-tab locks.
   */
  listen(receive: (message: TabMessage) => void, redo?: () => Promise<unknown>): void;
  close(): void;
}

const noop = () => undefined;

/**
 * Joins the app's tabs on the channel `channelName` (`false`: none) and the Web Lock
 * `<channelName>-refresh` (only with `locking`: token mode).
 */
export function createTabs(channelName: string | false, locking: boolean): Tabs {
  const locks = locking ? globalThis.navigator?.locks : undefined;
  const lockName = `${channelName || 'latchkey'}-refresh`;
  let chain: Promise<unknown> = Promise.resolve();
  const withLock = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (locks) return locks.request(lockName, fn);
    const run = chain.then(fn);
    chain = run.catch(noop);
    return run;
  };

  const Channel = channelName ? globalThis.BroadcastChannel : undefined;
  const channel = Channel && channelName ? new Channel(channelName) : undefined;

  // Another tab announced a refresh and has not told how it ended (if it closed, redo it).
  let orphan = false;
  let answered: () => void = noop;
  const settle = () => {
    orphan = false;
    answered();
  };

  return {
    withLock,
    post(message) {
      try {
        channel?.postMessage(message);
      } catch {
        // A closed channel: this tab simply stops telling the others.
      }
    },
    settle,
    listen(receive, redo) {
      if (!channel) return;
      channel.onmessage = (event: MessageEvent<unknown>) => {
        const message = parseMessage(event.data);
        if (!message) return; // malformed, or not ours: ignored
        if (message.type === 'done') return settle();
        if (message.type !== 'refreshing') return receive(message);
        if (!locks || !redo) return;
        orphan = true;
        // Queue behind that tab. If the lock comes back without an answer, that tab closed
        // mid-refresh: redo it now, while its request (if it arrived) is in the retry window.
        void withLock(async () => {
          if (orphan) {
            await new Promise<void>((resolve) => {
              answered = resolve;
              setTimeout(resolve, 250); // the answer may still be on its way
            });
          }
          answered = noop;
          if (orphan) await redo();
        }).catch(noop);
      };
    },
    close() {
      channel?.close();
    },
  };
}
