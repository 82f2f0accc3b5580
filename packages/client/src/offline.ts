/**
 * `@latchkey/client/offline`: non-sensitive, typed data kept in IndexedDB for offline use, and a
 * queue of changes made offline. One database per user, named by the user's opaque id (never the
 * email); it never holds a token, a cookie value or a CSRF token: queued changes keep a method,
 * a same-origin path and a JSON body, and the credential is attached only when they are sent.
 *
 * The database follows the client: it is opened when the client learns who is signed in, and
 * deleted when the client learns that nobody is (sign-out, a revoked or expired session, in this
 * tab or another), or that someone else is (every other user's database goes). Another tab that
 * holds it open is told by IndexedDB itself (`versionchange`, or the browser closing it after
 * `Clear-Site-Data`) and over the client's BroadcastChannel; it lets go and asks the server who
 * is signed in now. See docs/OFFLINE.md for what may go in here and what never may.
 */
import { deleteDB, openDB, type IDBPDatabase } from 'idb';
import type { PublicUser } from '@latchkey/wire';
import { LatchkeyError } from './errors.js';
import type { AuthClient, AuthMode } from './types.js';

/** The methods a queued change may use (a read is not queued: it is answered from the store). */
export type ChangeMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A change made offline, waiting to be sent: what `fetch` will send, and nothing else. */
export interface QueuedChange {
  /** Its place in the queue (changes are sent in this order). */
  seq: number;
  method: ChangeMethod;
  /** A path on the server's own origin, e.g. `/api/notes`. */
  path: string;
  /** Sent as JSON; `undefined`: no body. */
  body?: unknown;
  /** When it was queued (ISO 8601, this browser's clock). */
  queuedAt: string;
}

/**
 * What the store tells the app: `open` (a user's data is ready), `wiped` (it is gone),
 * `queued`, `sent` (the server accepted a queued change; `response` is its answer) and
 * `refused` (the server refused it: it is out of the queue, and `error` says why).
 */
export type OfflineEvent =
  | { type: 'open'; user: PublicUser }
  | { type: 'wiped' }
  | { type: 'queued'; change: QueuedChange }
  | { type: 'sent'; change: QueuedChange; response: Response }
  | { type: 'refused'; change: QueuedChange; error: LatchkeyError };

/** The record types of the app's collections, by collection name. */
export type Collections = Record<string, object>;

export interface OfflineOptions<C extends Collections> {
  /** Each collection, with the field that keys its records, e.g. `{ notes: 'id' }`. */
  collections: { [K in keyof C]: keyof C[K] & string };
  /** The schema version: raise it when `collections` change (a new one starts empty). @default 1 */
  version?: number;
  /** Databases are named `<prefix>:<user id>`. @default 'latchkey-offline' */
  prefix?: string;
  /** The client's BroadcastChannel (its `channelName`); `false`: none. @default 'latchkey' */
  channelName?: string | false;
  /** Send the queue when the browser comes online and when a user's data opens. @default true */
  autoReplay?: boolean;
}

export interface OfflineStore<C extends Collections> {
  /** Whose data is open: the signed-in user, or the last one (`resume()`, offline); else `null`. */
  readonly user: PublicUser | null;
  /**
   * Offline, before the client knows who is signed in: opens the one user's database this browser
   * holds, and resolves to that user and the mode the client ran in (`null`: none). The data stays
   * until the client says otherwise; the queue is sent only once the server confirms the user.
   */
  resume(): Promise<{ user: PublicUser; mode: AuthMode } | null>;
  /** Every record of a collection, in key order; `[]` when no user's data is open. */
  all<K extends keyof C & string>(name: K): Promise<C[K][]>;
  /** Adds or replaces one record (nothing when no user's data is open). */
  put<K extends keyof C & string>(name: K, record: C[K]): Promise<void>;
  /** Replaces a whole collection, at once (e.g. with what the server just answered). */
  replace<K extends keyof C & string>(name: K, records: readonly C[K][]): Promise<void>;
  /** Deletes one record by its key. */
  remove(name: keyof C & string, key: IDBValidKey): Promise<void>;
  /**
   * Queues a change to send when the network is back. Throws a `TypeError` for a path that is not
   * on the server's own origin, and an `Error` when no user's data is open.
   */
  enqueue(change: { method: ChangeMethod; path: string; body?: unknown }): Promise<QueuedChange>;
  /** The queued changes, in order. */
  pending(): Promise<QueuedChange[]>;
  /**
   * Sends the queue, in order, one tab at a time — only after `GET /auth/session` confirms that the
   * user whose data is open is still the one signed in. Each change goes through the client's
   * `fetch`, so it carries a fresh CSRF token or access token. A change the server accepts is
   * `sent`, one it refuses (`4xx`) is `refused`; both leave the queue. No network, a `5xx`, `408`
   * or `429` stop the replay until next time; a session that ended wipes the data instead.
   */
  replay(): Promise<void>;
  /** Listens to what happens; returns the unsubscribe. */
  subscribe(listener: (event: OfflineEvent) => void): () => void;
  /** Deletes every user's database now (the client does this on sign-out by itself). */
  wipe(): Promise<void>;
  /** Stops following the client, closes the database and the channel. */
  close(): void;
}

const QUEUE = '~queue';
const META = '~meta';
const METHODS = new Set<string>(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Worth trying again later: the server (or the way to it) had a problem, not the change. */
const LATER = new Set([408, 429]);
const noop = () => undefined;

interface Meta {
  user: PublicUser;
  mode: AuthMode;
}

/** Opens a database that exists, or fails (never creates one). */
const openExisting = (name: string) =>
  openDB(name, undefined, {
    upgrade: (_db, _old, _new, transaction) => transaction.abort(),
  });

/** Names of this app's offline databases in this browser. */
async function databases(prefix: string): Promise<string[]> {
  const list = (await globalThis.indexedDB?.databases?.().catch(() => [])) ?? [];
  return list.flatMap(({ name }) => (name?.startsWith(prefix) ? [name] : []));
}

/** Reads whose database `name` is, if it is one of ours and intact. */
async function readMeta(name: string, prefix: string): Promise<Meta | undefined> {
  const db = await openExisting(name).catch(noop);
  if (!db) return undefined;
  try {
    if (!db.objectStoreNames.contains(META)) return undefined;
    const meta = (await db.get(META, 'user')) as Meta | undefined;
    return meta && prefix + meta.user.id === name ? meta : undefined;
  } finally {
    db.close();
  }
}

/**
 * Creates the offline store for one app over `client`: typed collections, one IndexedDB database
 * per user, wiped whenever the client finds the user gone or changed. Options are read once, here;
 * a collection whose name starts with `~` throws a `TypeError`.
 */
export function createOfflineStore<C extends Collections>(
  client: AuthClient,
  options: OfflineOptions<C>,
): OfflineStore<C> {
  const prefix = `${options.prefix ?? 'latchkey-offline'}:`;
  const version = options.version ?? 1;
  const keys = options.collections as Record<string, string>;
  const names = Object.keys(keys);
  if (names.some((name) => name.startsWith('~'))) {
    throw new TypeError('collections: a name may not start with ~');
  }
  const autoReplay = options.autoReplay ?? true;
  const channelName = options.channelName ?? 'latchkey';
  const channel =
    channelName && globalThis.BroadcastChannel ? new BroadcastChannel(channelName) : undefined;
  const listeners = new Set<(event: OfflineEvent) => void>();
  const emit = (event: OfflineEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        // A broken listener must not stop a wipe or a replay.
        setTimeout(() => {
          throw error;
        });
      }
    }
  };

  let user: PublicUser | null = null;
  let db: Promise<IDBPDatabase | undefined> | undefined;
  // Opening, switching and wiping happen one at a time, in the order the client reported them.
  let lifecycle: Promise<unknown> = Promise.resolve();
  const step = (fn: () => Promise<unknown>): Promise<unknown> =>
    (lifecycle = lifecycle.then(fn).catch(noop));

  /** The open database, after any lifecycle step in flight; `undefined` when none is open. */
  const ready = async () => {
    await lifecycle;
    return db && (await db);
  };

  /** Lets go of the connection: the database is being deleted (here or in another tab). */
  const letGo = async () => {
    const was = db;
    db = undefined;
    user = null;
    (await was)?.close();
  };

  /** Another tab (or the browser) took our database away: find out from the server who is in. */
  const lost = () => {
    if (!db) return;
    void letGo();
    emit({ type: 'wiped' });
    void client.session().then((s) => s && step(() => adopt(s.user)), noop);
  };

  const connect = (id: string) =>
    openDB(prefix + id, version, {
      upgrade(d) {
        for (const name of [...d.objectStoreNames]) {
          if (!(name in keys) && name !== QUEUE && name !== META) d.deleteObjectStore(name);
        }
        for (const [name, keyPath] of Object.entries(keys)) {
          if (!d.objectStoreNames.contains(name)) d.createObjectStore(name, { keyPath });
        }
        if (!d.objectStoreNames.contains(QUEUE)) {
          d.createObjectStore(QUEUE, { keyPath: 'seq', autoIncrement: true });
        }
        if (!d.objectStoreNames.contains(META)) d.createObjectStore(META);
      },
      // Another tab deletes it (sign-out, another user) or a newer app upgrades it.
      blocking: lost,
      // The browser closed it: Clear-Site-Data "storage", or the user cleared site data.
      terminated: lost,
    }).catch(noop);

  /** Deletes the databases of every user but `keep`; other tabs are told to let go of them. */
  const remove = async (keep?: string) => {
    const gone = (await databases(prefix)).filter((name) => name !== keep);
    if (user && prefix + user.id !== keep) {
      const name = prefix + user.id;
      if (!gone.includes(name)) gone.push(name);
      await letGo();
    }
    await Promise.all(gone.map((name) => deleteDB(name)));
    for (const name of gone) {
      try {
        channel?.postMessage({ type: 'offline-wiped', name });
      } catch {
        // A closed channel (the store was closed): nobody to tell.
      }
    }
    if (gone.length > 0) emit({ type: 'wiped' });
  };

  /** `next` is signed in: open their data (every other user's goes first). */
  const adopt = async (next: PublicUser) => {
    await remove(prefix + next.id);
    const fresh = user?.id !== next.id || !db;
    user = next;
    if (fresh) db = connect(next.id);
    const d = await db;
    if (!d || user !== next) return;
    await d.put(META, { user: next, mode: client.mode } satisfies Meta, 'user');
    emit({ type: 'open', user: next });
    if (autoReplay) void replay();
  };

  const unfollow = client.onChange((next) => {
    void step(() => (next ? adopt(next) : remove()));
  });
  const known = client.getUser();
  if (known !== undefined) void step(() => (known ? adopt(known) : remove()));

  if (channel) {
    channel.onmessage = (event: MessageEvent<unknown>) => {
      const message = event.data as { type?: unknown; name?: unknown } | null;
      if (message?.type === 'offline-wiped' && user && message.name === prefix + user.id) lost();
    };
  }
  const online = () => void replay();
  if (autoReplay) globalThis.addEventListener?.('online', online);

  // One replay at a time in this tab; one asked for meanwhile runs once more after it.
  let replaying: Promise<void> | undefined;
  let again = false;
  const replay = (): Promise<void> => {
    again = true;
    return (replaying ??= (async () => {
      while (again) {
        again = false;
        // A database taken away mid-replay (another tab wiped it) ends this replay, quietly.
        await send().catch(noop);
      }
    })().finally(() => {
      replaying = undefined;
    }));
  };

  /** One replay: confirm the user, then send the queue in order, holding the replay lock. */
  const send = async () => {
    const d = await ready();
    const who = user;
    if (!d || !who || (await d.count(QUEUE)) === 0) return;
    let session;
    try {
      session = await client.session();
    } catch {
      return; // offline, or the server cannot tell: next time
    }
    // Signed out (the client reports it, and the data goes) or someone else: nothing is sent.
    if (!session || session.user.id !== who.id) return;
    const locks = globalThis.navigator?.locks;
    const lockName = `${prefix}${who.id}:replay`;
    const sendAll = async () => {
      for (;;) {
        // Read afresh under the lock: another tab may have sent some meanwhile.
        const change =
          user?.id === who.id ? ((await d.getAll(QUEUE, null, 1))[0] as QueuedChange) : null;
        if (!change) return;
        const init: RequestInit = { method: change.method };
        if (change.body !== undefined) {
          init.body = JSON.stringify(change.body);
          init.headers = { 'Content-Type': 'application/json' };
        }
        let response: Response;
        try {
          response = await client.fetch(change.path, init);
        } catch {
          return; // the network went again
        }
        const { status } = response;
        // 401: the session is over (the client reports it and the data goes); else: next time.
        if (status === 401 || status >= 500 || LATER.has(status)) return;
        await d.delete(QUEUE, change.seq);
        if (response.ok) emit({ type: 'sent', change, response });
        else emit({ type: 'refused', change, error: await LatchkeyError.fromResponse(response) });
      }
    };
    await (locks ? locks.request(lockName, sendAll) : sendAll());
  };

  const store = async <T>(fn: (d: IDBPDatabase) => Promise<T>, none: T) => {
    const d = await ready();
    return d ? fn(d) : none;
  };

  return {
    get user() {
      return user;
    },
    async resume() {
      let found: Meta | null = null;
      await step(async () => {
        found = await findLast(prefix);
        if (found && !user) {
          user = found.user;
          db = connect(found.user.id);
        }
      });
      return found;
    },
    all: (name) => store((d) => d.getAll(name), []),
    put: (name, record) => store((d) => d.put(name, record).then(noop), undefined),
    replace: (name, records) =>
      store(async (d) => {
        const tx = d.transaction(name, 'readwrite');
        await tx.store.clear();
        await Promise.all([...records.map((r) => tx.store.put(r)), tx.done]);
      }, undefined),
    remove: (name, key) => store((d) => d.delete(name, key), undefined),
    async enqueue({ method, path, body }) {
      // A path on our own origin: the credential is attached to it when it is sent.
      if (!METHODS.has(method) || !/^\/(?![/\\])/.test(path) || /[\\\s]/.test(path)) {
        throw new TypeError('enqueue: expected POST/PUT/PATCH/DELETE and a path like /api/x');
      }
      const d = await ready();
      if (!d) throw new Error('No user data is open to queue a change in.');
      const entry: Omit<QueuedChange, 'seq'> = { method, path, queuedAt: new Date().toISOString() };
      if (body !== undefined) entry.body = body;
      const seq = (await d.add(QUEUE, entry)) as number;
      const change = { seq, ...entry };
      emit({ type: 'queued', change });
      return change;
    },
    pending: () => store((d) => d.getAll(QUEUE) as Promise<QueuedChange[]>, []),
    replay,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    wipe: () => step(() => remove()).then(noop),
    close() {
      unfollow();
      channel?.close();
      globalThis.removeEventListener?.('online', online);
      void letGo();
    },
  };
}

/**
 * The user whose offline data this browser holds, and the mode the client ran in, without a
 * client: what an app needs to start offline (`null`: none, or more than one).
 */
export async function lastOfflineUser(
  prefix = 'latchkey-offline',
): Promise<{ user: PublicUser; mode: AuthMode } | null> {
  return findLast(`${prefix}:`);
}

/** The one user's data this browser holds: `null` when none (or, impossibly, several). */
async function findLast(prefix: string): Promise<Meta | null> {
  const [name, ...more] = await databases(prefix);
  return (name && more.length === 0 && (await readMeta(name, prefix))) || null;
}
