import type { LatchkeyStore, SessionRecord, UserRecord } from './types.js';

/** What one server tells the others when a session or user changes. */
export type Invalidation = { kind: 'session'; id: string } | { kind: 'user'; id: string };

/**
 * A broadcast channel between app servers (Redis pub/sub in production). `healthy`
 * is true only while messages are known to arrive: after a disconnect, messages
 * may have been missed, so the cache must not serve until it has been flushed.
 */
export interface InvalidationChannel {
  publish(message: Invalidation): Promise<void>;
  /** Registers the handler; `onReset` is called whenever delivery (re)starts after a gap. */
  subscribe(onMessage: (message: Invalidation) => void, onReset: () => void): void;
  healthy(): boolean;
  close(): Promise<void>;
}

export interface NearCacheOptions {
  /** Longest an entry is served without re-reading the store. @default 30000 */
  maxAgeMs?: number;
  /** Entries kept at most; the oldest go first. @default 50000 */
  maxEntries?: number;
  /** Clock. @default Date.now */
  now?: () => number;
}

export interface NearCacheStats {
  hits: number;
  misses: number;
  bypassed: number;
}

interface Entry<T> {
  value: T;
  cachedAt: number;
}

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

  const flush = () => {
    sessions.clear();
    users.clear();
  };
  const evictUser = (userId: string) => {
    users.delete(userId);
    for (const [id, entry] of sessions) if (entry.value.userId === userId) sessions.delete(id);
  };
  channel.subscribe((message) => {
    if (message.kind === 'session') sessions.delete(message.id);
    else evictUser(message.id);
  }, flush);

  const put = <T>(map: Map<string, Entry<T>>, key: string, value: T) => {
    if (map.size >= maxEntries) {
      const oldest = map.keys().next();
      if (!oldest.done) map.delete(oldest.value);
    }
    map.set(key, { value, cachedAt: now() });
  };

  /** A fresh, trustworthy entry, or undefined (and counts why). */
  const fresh = <T>(map: Map<string, Entry<T>>, key: string, usable: (value: T) => boolean) => {
    if (!channel.healthy()) {
      stats.bypassed++;
      if (map.size > 0) flush();
      return undefined;
    }
    const entry = map.get(key);
    if (entry && now() - entry.cachedAt < maxAgeMs && usable(entry.value)) {
      stats.hits++;
      return entry.value;
    }
    stats.misses++;
    return undefined;
  };

  const tell = async (message: Invalidation) => {
    if (message.kind === 'session') sessions.delete(message.id);
    else evictUser(message.id);
    await channel.publish(message);
  };

  return {
    name: `${store.name}-near-cache`,
    stats,
    users: {
      createUser: (user) => store.users.createUser(user),
      getUserByEmail: (email) => store.users.getUserByEmail(email),
      async getUserById(id) {
        const cached = fresh(users, id, () => true);
        if (cached) return { ...cached };
        const user = await store.users.getUserById(id);
        if (user && channel.healthy()) put(users, id, { ...user });
        return user;
      },
      async setPasswordHash(userId, passwordHash) {
        await store.users.setPasswordHash(userId, passwordHash);
        await tell({ kind: 'user', id: userId });
      },
    },
    sessions: {
      createSession: (session) => store.sessions.createSession(session),
      async getSession(id) {
        const t = now();
        const cached = fresh(sessions, id, (s) => t < s.idleExpiresAt && t < s.expiresAt);
        if (cached) return { ...cached };
        const session = await store.sessions.getSession(id);
        if (session && channel.healthy()) put(sessions, id, { ...session });
        return session;
      },
      async touchSession(id, lastSeenAt, idleExpiresAt) {
        await store.sessions.touchSession(id, lastSeenAt, idleExpiresAt);
        const entry = sessions.get(id);
        if (entry) entry.value = { ...entry.value, lastSeenAt, idleExpiresAt };
      },
      async rotateSecret(id, expected, next) {
        const applied = await store.sessions.rotateSecret(id, expected, next);
        await tell({ kind: 'session', id });
        return applied;
      },
      async deleteSession(id) {
        const deleted = await store.sessions.deleteSession(id);
        await tell({ kind: 'session', id });
        return deleted;
      },
      listUserSessions: (userId, t) => store.sessions.listUserSessions(userId, t),
      async deleteUserSessions(userId, exceptId) {
        const count = await store.sessions.deleteUserSessions(userId, exceptId);
        await tell({ kind: 'user', id: userId });
        return count;
      },
      deleteExpiredSessions: (t) => store.sessions.deleteExpiredSessions(t),
    },
    rateLimits: store.rateLimits,
    ping: () => store.ping(),
    async close() {
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
