import type {
  Invalidation,
  InvalidationChannel,
  NearCacheOptions,
  NearCacheStats,
} from './near-cache-types.js';
import type { LatchkeyStore, SessionRecord, UserRecord } from './types.js';

export type {
  Invalidation,
  InvalidationChannel,
  NearCacheOptions,
  NearCacheStats,
} from './near-cache-types.js';

interface Entry<T> {
  value: T;
  cachedAt: number;
}

const always = () => true;
/** A cached session is trusted only before its expiry: another server may have slid it. */
const unexpired = (session: SessionRecord, t: number) =>
  t < session.idleExpiresAt && t < session.expiresAt;

/** First and longest wait between background re-sends of an undelivered invalidation. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2000;

/**
 * An in-process cache of sessions and users in front of a shared store
 * (Redis, PostgreSQL), so most authenticated requests never leave the process.
 *
 * Every write goes through to the store first, then evicts locally and tells the
 * other servers over the channel. It fails closed: while the channel is unhealthy
 * nothing is served from the cache (every read goes to the store), and the cache is
 * flushed whenever delivery restarts. A cached session whose idle or absolute expiry
 * has come is never trusted: the store is asked, since another server may have
 * slid it.
 *
 * Reads racing invalidations: a miss notes an invalidation generation (one counter,
 * bumped by every eviction message, local write, flush and reset) before it asks the
 * store, and caches the answer only if the counter has not moved meanwhile. A read
 * that started before a revocation and answers after its message arrived therefore
 * returns the old record once but never puts it back in the cache.
 *
 * A failed publish: the store write has happened but the other servers were not told.
 * This server flushes its cache and serves nothing from it (as if the channel were
 * unhealthy) until the message has been delivered; the message is re-sent in the
 * background with a bounded backoff (100 ms doubling to 2 s). A message is given up
 * after twice `maxAgeMs`: by then the entries it would evict on servers with the same
 * `maxAgeMs` have expired. The write itself still rejects (see `tell`). What the other
 * servers do meanwhile is NOT guarded by anything but age: while their own
 * subscription is healthy they cannot tell a publisher that failed from one that had
 * nothing to say (a heartbeat would not help: a silent server may simply be gone), so
 * they serve the record they cached before the write (or by a read in flight across
 * it) until the re-send arrives or the entry is `maxAgeMs` old, whichever is first.
 * `maxAgeMs` (plus one store read) is therefore the hard bound on how long a revoked
 * session or changed user can be served by another server when a publish fails; keep
 * it short.
 */
export function withNearCache(
  store: LatchkeyStore,
  channel: InvalidationChannel,
  options: NearCacheOptions = {},
): LatchkeyStore & { readonly stats: NearCacheStats } {
  const maxAgeMs = options.maxAgeMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 50_000;
  const now = options.now ?? Date.now;
  const sessions = new Map<string, Entry<SessionRecord>>();
  const users = new Map<string, Entry<UserRecord>>();
  const stats: NearCacheStats = { hits: 0, misses: 0, bypassed: 0 };
  /** Moves on every eviction and flush: a read in flight across a move is not cached. */
  let generation = 0;
  /** Invalidations this server could not publish, oldest first, keyed `kind:id`. */
  const undelivered = new Map<string, { message: Invalidation; at: number }>();
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryDelayMs = RETRY_FIRST_MS;
  let closed = false;

  const flush = () => {
    generation++;
    sessions.clear();
    users.clear();
  };
  const evict = (message: Invalidation) => {
    generation++;
    if (message.kind === 'session') {
      sessions.delete(message.id);
      return;
    }
    users.delete(message.id);
    for (const [id, entry] of sessions) if (entry.value.userId === message.id) sessions.delete(id);
  };
  channel.subscribe(evict, flush);

  /** False while delivery is in doubt: the channel is down or one of our publishes failed. */
  const serving = () => channel.healthy() && undelivered.size === 0;

  /** Caches a store answer unless delivery is in doubt or an eviction happened since `since`. */
  const put = <T>(map: Map<string, Entry<T>>, key: string, value: T, since: number) => {
    if (!serving() || generation !== since) return;
    if (map.size >= maxEntries) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(key, { value, cachedAt: now() });
  };

  /** A fresh, trustworthy entry at time `t`, or undefined (and counts why). */
  const fresh = <T>(
    map: Map<string, Entry<T>>,
    key: string,
    t: number,
    usable: (value: T, t: number) => boolean,
  ) => {
    if (!serving()) {
      stats.bypassed++;
      if (map.size > 0) flush();
      return undefined;
    }
    const entry = map.get(key);
    if (entry && t - entry.cachedAt < maxAgeMs && usable(entry.value, t)) {
      stats.hits++;
      return entry.value;
    }
    stats.misses++;
    return undefined;
  };

  const retry = async () => {
    retryTimer = undefined;
    if (closed) return;
    // A message older than twice maxAgeMs is of no use: every entry it would evict
    // elsewhere has expired, even one put by a read in flight at the write. The newest
    // is kept as a probe, since only a delivery proves the channel works again.
    for (const [key, { at }] of undelivered) {
      if (undelivered.size > 1 && now() - at >= 2 * maxAgeMs) undelivered.delete(key);
    }
    for (const [key, { message }] of [...undelivered]) {
      try {
        await channel.publish(message);
      } catch {
        schedule();
        return;
      }
      undelivered.delete(key);
    }
    retryDelayMs = RETRY_FIRST_MS;
    // Delivery is known good again; a read in flight since the failure is not cached.
    if (undelivered.size === 0) flush();
  };
  const schedule = () => {
    if (retryTimer !== undefined || closed) return;
    retryTimer = setTimeout(() => void retry(), retryDelayMs);
    (retryTimer as { unref?: () => void }).unref?.();
    retryDelayMs = Math.min(retryDelayMs * 2, RETRY_MAX_MS);
  };

  /**
   * Evicts locally, then tells the other servers. When the publish fails the caller
   * still gets the rejection, although the store write is done: a revoke that the
   * other servers have not heard of is not finished, so it answers 503 through the
   * store guard (fail closed) and the user may retry; every write here is idempotent.
   * Meanwhile this server stops serving from its cache and re-sends in the background.
   */
  const tell = async (message: Invalidation) => {
    evict(message);
    try {
      await channel.publish(message);
    } catch (error) {
      const key = `${message.kind}:${message.id}`;
      undelivered.delete(key);
      undelivered.set(key, { message, at: now() });
      flush();
      schedule();
      throw error;
    }
  };

  /**
   * Runs a store write, then `tell`s. A write that rejects may still have been applied
   * (a timeout means "unknown"), so the others are told then too, and the write's own
   * error is the one the caller sees.
   */
  const write = async <R>(message: Invalidation, run: () => Promise<R>): Promise<R> => {
    let result: R;
    try {
      result = await run();
    } catch (error) {
      await tell(message).catch(() => undefined);
      throw error;
    }
    await tell(message);
    return result;
  };

  const readUser = async (id: string) => {
    const since = generation;
    const user = await store.users.getUserById(id);
    if (user) put(users, id, { ...user }, since);
    return user;
  };
  const readSession = async (id: string) => {
    const since = generation;
    const session = await store.sessions.getSession(id);
    if (session) put(sessions, id, { ...session }, since);
    return session;
  };

  return {
    name: `${store.name}-near-cache`,
    stats,
    users: {
      createUser: (user) => store.users.createUser(user),
      getUserByEmail: (email) => store.users.getUserByEmail(email),
      // A hit answers without an async function or a closure per call: this is on
      // every authenticated request's path.
      getUserById(id) {
        const cached = fresh(users, id, now(), always);
        return cached ? Promise.resolve({ ...cached }) : readUser(id);
      },
      setPasswordHash: (userId, passwordHash) =>
        write({ kind: 'user', id: userId }, () =>
          store.users.setPasswordHash(userId, passwordHash),
        ),
      updateUser: (userId, patch) =>
        write({ kind: 'user', id: userId }, () => store.users.updateUser(userId, patch)),
      // A user message evicts the user and every cached session of theirs, everywhere.
      deleteUser: (id) => write({ kind: 'user', id }, () => store.users.deleteUser(id)),
    },
    sessions: {
      createSession: (session) => store.sessions.createSession(session),
      getSession(id) {
        const cached = fresh(sessions, id, now(), unexpired);
        return cached ? Promise.resolve({ ...cached }) : readSession(id);
      },
      async touchSession(id, lastSeenAt, idleExpiresAt) {
        await store.sessions.touchSession(id, lastSeenAt, idleExpiresAt);
        const entry = sessions.get(id);
        if (entry) entry.value = { ...entry.value, lastSeenAt, idleExpiresAt };
      },
      rotateSecret: (id, expected, next) =>
        write({ kind: 'session', id }, () => store.sessions.rotateSecret(id, expected, next)),
      deleteSession: (id) => write({ kind: 'session', id }, () => store.sessions.deleteSession(id)),
      listUserSessions: (userId, t) => store.sessions.listUserSessions(userId, t),
      deleteUserSessions: (userId, exceptId) =>
        write({ kind: 'user', id: userId }, () =>
          store.sessions.deleteUserSessions(userId, exceptId),
        ),
      deleteExpiredSessions: (t) => store.sessions.deleteExpiredSessions(t),
    },
    records: store.records,
    rateLimits: store.rateLimits,
    ping: () => store.ping(),
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      flush();
      await channel.close();
      await store.close();
    },
  };
}

/** A channel inside one process, for tests and single-server use. */
export function createLocalInvalidationBus(): {
  channel(): InvalidationChannel;
  setHealthy(h: boolean): void;
} {
  const handlers = new Set<{ onMessage: (m: Invalidation) => void; onReset: () => void }>();
  let healthy = true;
  return {
    setHealthy(h) {
      const restarted = h && !healthy;
      healthy = h;
      if (restarted) for (const handler of handlers) handler.onReset();
    },
    channel() {
      let mine: { onMessage: (m: Invalidation) => void; onReset: () => void } | undefined;
      return {
        publish(message) {
          if (!healthy) return Promise.reject(new Error('invalidation channel down'));
          for (const handler of handlers) handler.onMessage(message);
          return Promise.resolve();
        },
        subscribe(onMessage, onReset) {
          mine = { onMessage, onReset };
          handlers.add(mine);
        },
        healthy: () => healthy,
        close() {
          if (mine) handlers.delete(mine);
          return Promise.resolve();
        },
      };
    },
  };
}
