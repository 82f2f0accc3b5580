import {
  withNearCache,
  type InvalidationChannel,
  type LatchkeyStore,
  type NearCacheOptions,
  type SessionRecord,
} from '@latchkey/core/store-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { newSession, newUser } from './fixtures.js';
import { tcpProxy } from './proxy.js';

/** One app server of the pair: its own store connection and its own invalidation channel. */
export interface NearCacheRaceServer {
  store: LatchkeyStore;
  channel: InvalidationChannel;
}

/** What a shared backend gives `describeNearCacheRaces`. */
export interface NearCacheRaceBackend {
  /** The backend in test titles (`Redis`, `PostgreSQL LISTEN/NOTIFY`). */
  name: string;
  /** The URL of the server the channels talk to (a proxy to it stands for a bad network). */
  channelUrl: string;
  /**
   * Two app servers on the shared backend, in a keyspace and on a channel no other test
   * uses; A's channel connects to `channelUrlOfA` when given. `cleanup` removes what they
   * wrote, after both are closed.
   */
  twoServers(channelUrlOfA?: string): Promise<{
    a: NearCacheRaceServer;
    b: NearCacheRaceServer;
    cleanup: () => Promise<void>;
  }>;
  /** The message of the error this backend's client rejects a publish with when its connection is gone. */
  publishError: string;
}

/**
 * Two app servers in one process, each a near-cache over its own store and its own
 * invalidation channel on one shared backend: a read racing a revocation on the other
 * server, a publish that fails while the subscription is up, and a real connection loss
 * on one server's channel (issue 9, item 12).
 */
export function describeNearCacheRaces(backend: NearCacheRaceBackend): void {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    // Last pushed first: the caches close (and a proxy is cut) before the data goes.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const twoServers = async (channelUrlOfA?: string) => {
    const servers = await backend.twoServers(channelUrlOfA);
    cleanups.push(servers.cleanup);
    return servers;
  };

  /**
   * A near-cache per server, each over the store and channel given for it (a test's
   * wrappers), closed after the test; answers once both servers' channels are up.
   */
  const nearCaches = async (
    servers: { a: NearCacheRaceServer; b: NearCacheRaceServer },
    over: { a: NearCacheRaceServer; b: NearCacheRaceServer },
    options?: NearCacheOptions,
  ) => {
    const cacheA = withNearCache(over.a.store, over.a.channel, options);
    const cacheB = withNearCache(over.b.store, over.b.channel, options);
    cleanups.push(
      () => cacheA.close(),
      () => cacheB.close(),
    );
    await untilHealthy(servers.a.channel);
    await untilHealthy(servers.b.channel);
    return { cacheA, cacheB };
  };

  /** `count` users, each with a session, written through `cache`. */
  const sessionsOf = async (cache: LatchkeyStore, count: number): Promise<SessionRecord[]> => {
    const sessions: SessionRecord[] = [];
    for (let i = 0; i < count; i++) {
      const user = newUser();
      await cache.users.createUser(user);
      const session = newSession(user.id);
      await cache.sessions.createSession(session);
      sessions.push(session);
    }
    return sessions;
  };

  describe(`near-cache over ${backend.name}: races and failed publishes`, () => {
    it('a read racing a revoke on another server cannot put the revoked session back', async () => {
      const servers = await twoServers();
      const heldB = holdable(servers.b.store);
      const seenByB = observed(servers.b.channel);
      const { cacheA, cacheB } = await nearCaches(servers, {
        a: servers.a,
        b: { store: heldB.view, channel: seenByB.channel },
      });
      const [session] = (await sessionsOf(cacheA, 1)) as [SessionRecord];

      // B misses and the backend answers "live"; the answer is held on its way back…
      const release = heldB.hold();
      const racing = cacheB.sessions.getSession(session.id);
      await expect.poll(() => heldB.answered()).toBe(1);
      // …while A revokes, and B's eviction arrives (and finds nothing cached yet).
      expect(await cacheA.sessions.deleteSession(session.id)).toBe(true);
      await expect.poll(() => seenByB.seen, { timeout: 2000 }).toContain(session.id);
      release();
      expect(await racing).not.toBeNull();

      // The stale answer was not cached: B asks the backend again, and it says revoked.
      expect(await cacheB.sessions.getSession(session.id)).toBeNull();
      expect(heldB.reads()).toBe(2);
      expect(await cacheB.sessions.getSession(session.id)).toBeNull();
    });

    it('a failed publish: the revoke rejects, this server stops serving from memory, the others learn on re-send', async () => {
      const servers = await twoServers();
      const { a, b } = servers;
      const brokenA = breakable(a.channel, backend.publishError);
      const seenByB = observed(b.channel);
      const { cacheA, cacheB } = await nearCaches(servers, {
        a: { store: a.store, channel: brokenA.channel },
        b: { store: b.store, channel: seenByB.channel },
      });
      const [revoked, other] = (await sessionsOf(cacheA, 2)) as [SessionRecord, SessionRecord];
      for (const cache of [cacheA, cacheB]) {
        await cache.sessions.getSession(revoked.id);
        await cache.sessions.getSession(other.id);
      }

      brokenA.state.broken = true;
      await expect(cacheA.sessions.deleteSession(revoked.id)).rejects.toThrow(backend.publishError);
      // The write itself happened.
      expect(await a.store.sessions.getSession(revoked.id)).toBeNull();
      // A serves nothing from memory now, not even the untouched session it had cached.
      const hits = cacheA.stats.hits;
      expect(await cacheA.sessions.getSession(other.id)).not.toBeNull();
      expect(cacheA.stats.hits).toBe(hits);
      expect(cacheA.stats.bypassed).toBeGreaterThan(0);
      // B was not told and still has its entry (bounded by maxAgeMs)…
      expect(seenByB.seen).toEqual([]);

      // …until A's publisher works again and the background re-send reaches B.
      brokenA.state.broken = false;
      await expect.poll(() => seenByB.seen, { timeout: 5000 }).toContain(revoked.id);
      expect(await cacheB.sessions.getSession(revoked.id)).toBeNull();
      // And A serves from memory again once delivery is known good.
      await cacheA.sessions.getSession(other.id);
      const again = cacheA.stats.hits;
      await cacheA.sessions.getSession(other.id);
      expect(cacheA.stats.hits).toBe(again + 1);
    });

    it("a real connection loss on A's channel: the revoke rejects and B learns once A reconnects, long before maxAge", async () => {
      const proxy = await tcpProxy(backend.channelUrl);
      // Pushed first, so it is cut after the caches are closed.
      cleanups.push(() => proxy.cut());
      const servers = await twoServers(proxy.url);
      const { a, b } = servers;
      const seenByB = observed(b.channel);
      const { cacheA, cacheB } = await nearCaches(
        servers,
        { a, b: { store: b.store, channel: seenByB.channel } },
        { maxAgeMs: 60_000 },
      );
      const [session] = (await sessionsOf(cacheA, 1)) as [SessionRecord];
      await cacheB.sessions.getSession(session.id);

      await proxy.cut();
      await expect.poll(() => a.channel.healthy(), { timeout: 5000 }).toBe(false);
      // The store connection is fine, so the revoke is written; only the publish fails.
      await expect(cacheA.sessions.deleteSession(session.id)).rejects.toThrow();
      expect(await b.store.sessions.getSession(session.id)).toBeNull();
      expect(b.channel.healthy()).toBe(true);
      expect(seenByB.seen).toEqual([]);
      // B cannot tell A's silence from having nothing to say: it still serves its entry,
      // bounded by maxAgeMs (the documented limit).
      expect(await cacheB.sessions.getSession(session.id)).not.toBeNull();

      await proxy.restore();
      await expect.poll(() => seenByB.seen, { timeout: 10_000 }).toContain(session.id);
      expect(await cacheB.sessions.getSession(session.id)).toBeNull();
    });
  });
}

async function untilHealthy(channel: InvalidationChannel) {
  await expect.poll(() => channel.healthy(), { timeout: 5000 }).toBe(true);
}

/** Records what a channel delivers to its cache, so a test can wait for a message. */
function observed(channel: InvalidationChannel) {
  const seen: string[] = [];
  const wrapped: InvalidationChannel = {
    publish: (message) => channel.publish(message),
    subscribe(onMessage, onReset) {
      channel.subscribe((message) => {
        seen.push(message.id);
        onMessage(message);
      }, onReset);
    },
    healthy: () => channel.healthy(),
    close: () => channel.close(),
  };
  return { channel: wrapped, seen };
}

/** A channel whose publish can be made to reject (as the backend's client would) while its subscription stays up. */
function breakable(channel: InvalidationChannel, message: string) {
  const state = { broken: false };
  const wrapped: InvalidationChannel = {
    publish: (m) => (state.broken ? Promise.reject(new Error(message)) : channel.publish(m)),
    subscribe: (onMessage, onReset) => channel.subscribe(onMessage, onReset),
    healthy: () => channel.healthy(),
    close: () => channel.close(),
  };
  return { channel: wrapped, state };
}

/** A store whose session reads can be held open after the backend has answered. */
function holdable(store: LatchkeyStore) {
  let gate: Promise<void> | undefined;
  let reads = 0;
  let answered = 0;
  const view: LatchkeyStore = {
    ...store,
    sessions: {
      ...store.sessions,
      async getSession(id) {
        reads++;
        const found = await store.sessions.getSession(id);
        answered++;
        if (gate) await gate;
        return found;
      },
    },
  };
  return {
    view,
    reads: () => reads,
    /** Reads the backend has answered (held or not). */
    answered: () => answered,
    hold() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}
