import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  withNearCache,
  type InvalidationChannel,
  type LatchkeyStore,
  type SessionRecord,
} from '@latchkey/core/store-kit';
import { newSession, newUser } from '@latchkey/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../src/index.js';
import { createRedisInvalidationChannel } from '../src/invalidation.js';
import { deleteUnder, REDIS_URL, testPrefix } from './helpers.js';

/*
 * Two app servers in one process, each a near-cache over its own Redis store
 * connection and its own invalidation channel, all on the shared Redis under a fresh
 * key prefix and a fresh channel name.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // In order: each test pushes the key cleanup first, then closes the servers.
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

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

/** A channel whose publish can be made to reject while its subscription stays up. */
function breakable(channel: InvalidationChannel) {
  const state = { broken: false };
  const wrapped: InvalidationChannel = {
    publish: (message) =>
      state.broken
        ? Promise.reject(
            new Error("Stream isn't writeable and enableOfflineQueue options is false"),
          )
        : channel.publish(message),
    subscribe: (onMessage, onReset) => channel.subscribe(onMessage, onReset),
    healthy: () => channel.healthy(),
    close: () => channel.close(),
  };
  return { channel: wrapped, state };
}

/** A store whose session reads can be held open after Redis has answered. */
function holdable(store: RedisStore) {
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
    /** Reads Redis has answered (held or not): counting calls would race the revoke. */
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

/** One app server: its own store connection, and a channel (maybe through a proxy). */
async function server(prefix: string, channelUrl = REDIS_URL) {
  const store = await createRedisStore({ url: REDIS_URL, keyPrefix: prefix });
  const channel = createRedisInvalidationChannel({ url: channelUrl, channel: prefix });
  return { store, channel };
}

async function twoServers(channelUrlOfA = REDIS_URL) {
  const prefix = testPrefix();
  const a = await server(prefix, channelUrlOfA);
  const b = await server(prefix);
  cleanups.push(async () => {
    await deleteUnder(b.store.client, prefix);
  });
  return { prefix, a, b };
}

async function untilHealthy(channel: InvalidationChannel) {
  await expect.poll(() => channel.healthy(), { timeout: 5000 }).toBe(true);
}

/** A TCP proxy to Redis that can be cut (every connection dropped, new ones refused) and restored. */
async function cuttableProxy(target: URL) {
  const sockets = new Set<Socket>();
  let listener: Server | undefined;
  let port = 0;
  const open = async () => {
    listener = createServer((client) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    listener.listen(port, '127.0.0.1');
    await once(listener, 'listening');
    port = (listener.address() as AddressInfo).port;
  };
  const cut = async () => {
    const closing = listener ? new Promise((resolve) => listener?.close(resolve)) : undefined;
    for (const s of sockets) s.destroy();
    await closing;
  };
  await open();
  return { url: `redis://127.0.0.1:${port}`, cut, restore: open };
}

describe('near-cache over Redis: races and failed publishes', () => {
  it('a read racing a revoke on another server cannot put the revoked session back', async () => {
    const { a, b } = await twoServers();
    const heldB = holdable(b.store);
    const seenByB = observed(b.channel);
    const cacheA = withNearCache(a.store, a.channel);
    const cacheB = withNearCache(heldB.view, seenByB.channel);
    cleanups.push(
      () => cacheA.close(),
      () => cacheB.close(),
    );
    await untilHealthy(a.channel);
    await untilHealthy(b.channel);

    const user = newUser();
    const session: SessionRecord = newSession(user.id);
    await cacheA.users.createUser(user);
    await cacheA.sessions.createSession(session);

    // B misses and Redis answers "live"; the answer is held on its way back…
    const release = heldB.hold();
    const racing = cacheB.sessions.getSession(session.id);
    await expect.poll(() => heldB.answered()).toBe(1);
    // …while A revokes, and B's eviction arrives (and finds nothing cached yet).
    expect(await cacheA.sessions.deleteSession(session.id)).toBe(true);
    await expect.poll(() => seenByB.seen, { timeout: 2000 }).toContain(session.id);
    release();
    expect(await racing).not.toBeNull();

    // The stale answer was not cached: B asks Redis again, and Redis says revoked.
    expect(await cacheB.sessions.getSession(session.id)).toBeNull();
    expect(heldB.reads()).toBe(2);
    expect(await cacheB.sessions.getSession(session.id)).toBeNull();
  });

  it('a failed publish: the revoke rejects, this server stops serving from memory, the others learn on re-send', async () => {
    const { a, b } = await twoServers();
    const brokenA = breakable(a.channel);
    const seenByB = observed(b.channel);
    const cacheA = withNearCache(a.store, brokenA.channel);
    const cacheB = withNearCache(b.store, seenByB.channel);
    cleanups.push(
      () => cacheA.close(),
      () => cacheB.close(),
    );
    await untilHealthy(a.channel);
    await untilHealthy(b.channel);

    const user = newUser();
    const revoked = newSession(user.id);
    const other = newSession(newUser().id);
    await cacheA.sessions.createSession(revoked);
    await cacheA.sessions.createSession(other);
    for (const cache of [cacheA, cacheB]) {
      await cache.sessions.getSession(revoked.id);
      await cache.sessions.getSession(other.id);
    }

    brokenA.state.broken = true;
    await expect(cacheA.sessions.deleteSession(revoked.id)).rejects.toThrow(/writeable/);
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
    const proxy = await cuttableProxy(new URL(REDIS_URL));
    const { a, b } = await twoServers(proxy.url);
    const seenByB = observed(b.channel);
    const maxAgeMs = 60_000;
    const cacheA = withNearCache(a.store, a.channel, { maxAgeMs });
    const cacheB = withNearCache(b.store, seenByB.channel, { maxAgeMs });
    cleanups.push(
      () => cacheA.close(),
      () => cacheB.close(),
      () => proxy.cut(),
    );
    await untilHealthy(a.channel);
    await untilHealthy(b.channel);

    const session = newSession(newUser().id);
    await cacheA.sessions.createSession(session);
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
