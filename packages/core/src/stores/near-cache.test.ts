import { describeStoreConformance } from '@latchkey/store-conformance';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from './memory.js';
import {
  createLocalInvalidationBus,
  withNearCache,
  type InvalidationChannel,
} from './near-cache.js';
import type { LatchkeyStore, SessionRecord, UserRecord } from './types.js';

describeStoreConformance('memory + near-cache', () => {
  const bus = createLocalInvalidationBus();
  return Promise.resolve({
    store: withNearCache(createMemoryStore(), bus.channel()),
    cleanup: () => Promise.resolve(),
  });
});

const session = (id: string, userId: string, now: number): SessionRecord => ({
  id,
  userId,
  secretHash: 'h',
  previousSecretHash: null,
  rotatedAt: null,
  createdAt: now,
  lastSeenAt: now,
  idleExpiresAt: now + 60_000,
  expiresAt: now + 3_600_000,
  userAgent: null,
  ip: null,
});

function twoServers() {
  const shared = createMemoryStore();
  const bus = createLocalInvalidationBus();
  const read = vi.spyOn(shared.sessions, 'getSession');
  return {
    shared,
    bus,
    read,
    a: withNearCache(shared, bus.channel()),
    b: withNearCache(shared, bus.channel()),
  };
}

describe('near-cache', () => {
  it('serves repeated reads from memory', async () => {
    const { a, read } = twoServers();
    await a.sessions.createSession(session('s1', 'u1', Date.now()));
    await a.sessions.getSession('s1');
    await a.sessions.getSession('s1');
    await a.sessions.getSession('s1');
    expect(read).toHaveBeenCalledTimes(1);
    expect(a.stats.hits).toBe(2);
  });

  it('a revoke on one server is seen by the other at once', async () => {
    const { a, b } = twoServers();
    await a.sessions.createSession(session('s1', 'u1', Date.now()));
    expect(await b.sessions.getSession('s1')).not.toBeNull();
    await a.sessions.deleteSession('s1');
    expect(await b.sessions.getSession('s1')).toBeNull();
  });

  it('revoke-all and a password change evict every cached session of the user elsewhere', async () => {
    const { a, b } = twoServers();
    const t = Date.now();
    await a.sessions.createSession(session('s1', 'u1', t));
    await a.sessions.createSession(session('s2', 'u1', t));
    await b.sessions.getSession('s1');
    await b.sessions.getSession('s2');
    await a.sessions.deleteUserSessions('u1', 's2');
    expect(await b.sessions.getSession('s1')).toBeNull();
    expect(await b.sessions.getSession('s2')).not.toBeNull();
  });

  it('deleting a user evicts the user and every cached session of theirs elsewhere', async () => {
    const { a, b } = twoServers();
    const t = Date.now();
    await a.users.createUser(user('u1'));
    await a.sessions.createSession(session('s1', 'u1', t));
    await b.users.getUserById('u1');
    await b.sessions.getSession('s1');
    expect(await a.users.deleteUser('u1')).toBe(true);
    expect(await b.users.getUserById('u1')).toBeNull();
    expect(await b.sessions.getSession('s1')).toBeNull();
  });

  it('a rotation elsewhere is seen at once (no stale secret hash)', async () => {
    const { a, b } = twoServers();
    await a.sessions.createSession(session('s1', 'u1', Date.now()));
    await b.sessions.getSession('s1');
    await a.sessions.rotateSecret('s1', 'h', {
      secretHash: 'h2',
      previousSecretHash: 'h',
      rotatedAt: Date.now(),
      lastSeenAt: Date.now(),
      idleExpiresAt: Date.now() + 60_000,
    });
    expect((await b.sessions.getSession('s1'))?.secretHash).toBe('h2');
  });

  it('fails closed: while the channel is down nothing is served from memory, and it is flushed on recovery', async () => {
    const { a, b, bus, read } = twoServers();
    await a.sessions.createSession(session('s1', 'u1', Date.now()));
    await b.sessions.getSession('s1');
    bus.setHealthy(false);
    // A revoke that the channel could not deliver (written straight to the store)…
    read.mockClear();
    await b.sessions.getSession('s1');
    expect(read).toHaveBeenCalledTimes(1);
    expect(b.stats.bypassed).toBeGreaterThan(0);
    bus.setHealthy(true);
    read.mockClear();
    await b.sessions.getSession('s1');
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('never trusts a cached session past its idle expiry: asks the store, where another server may have slid it', async () => {
    let now = Date.now();
    const shared = createMemoryStore();
    const bus = createLocalInvalidationBus();
    const a = withNearCache(shared, bus.channel(), { now: () => now });
    const b = withNearCache(shared, bus.channel(), { now: () => now });
    await a.sessions.createSession(session('s1', 'u1', now));
    await b.sessions.getSession('s1');
    await a.sessions.touchSession('s1', now + 50_000, now + 110_000);
    now += 61_000;
    expect((await b.sessions.getSession('s1'))?.idleExpiresAt).toBe(now - 61_000 + 110_000);
  });

  it('re-reads entries older than maxAge', async () => {
    let now = Date.now();
    const shared = createMemoryStore();
    const read = vi.spyOn(shared.sessions, 'getSession');
    const cache = withNearCache(shared, createLocalInvalidationBus().channel(), {
      maxAgeMs: 1000,
      now: () => now,
    });
    await cache.sessions.createSession(session('s1', 'u1', now));
    await cache.sessions.getSession('s1');
    now += 1001;
    await cache.sessions.getSession('s1');
    expect(read).toHaveBeenCalledTimes(2);
  });
});

/** A promise to resolve by hand, to interleave a read and a revoke exactly. */
function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

/**
 * Two servers over one store, where server B's store reads can be held open: the
 * read has already fetched its answer from the store when it is held, and returns
 * that (by then stale) answer when released.
 */
function twoServersWithHeldReads() {
  const shared = createMemoryStore();
  const bus = createLocalInvalidationBus();
  let gate: ReturnType<typeof deferred> | undefined;
  const reads = { sessions: 0, users: 0 };
  const viewB: LatchkeyStore = {
    ...shared,
    users: {
      ...shared.users,
      async getUserById(id) {
        reads.users++;
        const user = await shared.users.getUserById(id);
        if (gate) await gate.promise;
        return user;
      },
    },
    sessions: {
      ...shared.sessions,
      async getSession(id) {
        reads.sessions++;
        const found = await shared.sessions.getSession(id);
        if (gate) await gate.promise;
        return found;
      },
    },
  };
  return {
    shared,
    bus,
    reads,
    a: withNearCache(shared, bus.channel()),
    b: withNearCache(viewB, bus.channel()),
    /** Holds every read of B's store from now on; returns the release. */
    hold: () => {
      gate = deferred();
      const current = gate;
      return () => {
        gate = undefined;
        current.release();
      };
    },
  };
}

const user = (id: string): UserRecord => ({
  id,
  email: `${id}@example.com`,
  name: null,
  passwordHash: '$argon2id$old',
  createdAt: Date.now(),
  emailVerifiedAt: null,
  mfa: [],
});

describe('near-cache: reads racing invalidations', () => {
  it('a session read in flight while another server revokes it does not put the revoked session back', async () => {
    const { a, b, reads, hold } = twoServersWithHeldReads();
    await a.sessions.createSession(session('s1', 'u1', Date.now()));
    const release = hold();
    // B misses and asks the store, which answers "live"; the answer is held…
    const racing = b.sessions.getSession('s1');
    // …while A revokes: the store forgets it and B's eviction finds nothing cached.
    expect(await a.sessions.deleteSession('s1')).toBe(true);
    release();
    // The read that started before the revoke may return what it read, once…
    expect(await racing).not.toBeNull();
    // …but it must not be cached: the next read asks the store.
    expect(await b.sessions.getSession('s1')).toBeNull();
    expect(reads.sessions).toBe(2);
  });

  it('a user read in flight while another server changes the password does not cache the old hash', async () => {
    const { a, b, reads, hold } = twoServersWithHeldReads();
    await a.users.createUser(user('u1'));
    const release = hold();
    const racing = b.users.getUserById('u1');
    await a.users.setPasswordHash('u1', '$argon2id$new');
    release();
    expect((await racing)?.passwordHash).toBe('$argon2id$old');
    expect((await b.users.getUserById('u1'))?.passwordHash).toBe('$argon2id$new');
    expect(reads.users).toBe(2);
  });

  it("a read in flight across this server's own revoke is not cached either", async () => {
    const { b, reads, hold } = twoServersWithHeldReads();
    await b.sessions.createSession(session('s1', 'u1', Date.now()));
    const release = hold();
    const racing = b.sessions.getSession('s1');
    expect(await b.sessions.deleteSession('s1')).toBe(true);
    release();
    await racing;
    expect(await b.sessions.getSession('s1')).toBeNull();
    expect(reads.sessions).toBe(2);
  });

  it('a read in flight across a channel reset (messages may have been lost) is not cached', async () => {
    const { a, b, bus, reads, hold } = twoServersWithHeldReads();
    await a.sessions.createSession(session('s1', 'u1', Date.now()));
    const release = hold();
    const racing = b.sessions.getSession('s1');
    bus.setHealthy(false);
    bus.setHealthy(true);
    release();
    await racing;
    await b.sessions.getSession('s1');
    expect(reads.sessions).toBe(2);
  });

  it('a read with no invalidation meanwhile is still cached', async () => {
    const { a, b, reads, hold } = twoServersWithHeldReads();
    await a.sessions.createSession(session('s1', 'u1', Date.now()));
    await a.sessions.createSession(session('s2', 'u2', Date.now()));
    const release = hold();
    const racing = b.sessions.getSession('s1');
    release();
    await racing;
    expect(await b.sessions.getSession('s1')).not.toBeNull();
    expect(reads.sessions).toBe(1);
  });
});

/** A channel whose publish can be broken while its subscription stays healthy. */
function breakablePublish(channel: InvalidationChannel) {
  const state = { broken: false, attempts: [] as number[] };
  const wrapped: InvalidationChannel = {
    ...channel,
    publish(message) {
      state.attempts.push(Date.now());
      if (state.broken) return Promise.reject(new Error('publisher connection lost'));
      return channel.publish(message);
    },
  };
  return { channel: wrapped, state };
}

describe('near-cache: a publish that fails', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(
    options: { maxAgeMs?: number } = {},
    storeOfA: (shared: LatchkeyStore) => LatchkeyStore = (shared) => shared,
  ) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const shared = createMemoryStore();
    const bus = createLocalInvalidationBus();
    const read = vi.spyOn(shared.sessions, 'getSession');
    const publisher = breakablePublish(bus.channel());
    const seenByB: string[] = [];
    const channelB = bus.channel();
    const b = withNearCache(shared, {
      ...channelB,
      subscribe(onMessage, onReset) {
        channelB.subscribe((message) => {
          seenByB.push(message.id);
          onMessage(message);
        }, onReset);
      },
    });
    const a = withNearCache(storeOfA(shared), publisher.channel, options);
    return { shared, read, a, b, state: publisher.state, seenByB };
  }

  it('still rejects the write, which is applied; this server flushes and stops serving from memory', async () => {
    const { shared, read, a, state } = setup();
    const t = Date.now();
    await shared.sessions.createSession(session('s1', 'u1', t));
    await shared.sessions.createSession(session('s2', 'u2', t));
    await a.sessions.getSession('s1');
    await a.sessions.getSession('s2');
    state.broken = true;
    await expect(a.sessions.deleteSession('s1')).rejects.toThrow('publisher connection lost');
    expect(await shared.sessions.getSession('s1')).toBeNull();
    // s2 was cached and is untouched by the revoke, yet it is no longer served from memory.
    read.mockClear();
    const bypassed = a.stats.bypassed;
    expect(await a.sessions.getSession('s2')).not.toBeNull();
    expect(await a.sessions.getSession('s2')).not.toBeNull();
    expect(read).toHaveBeenCalledTimes(2);
    expect(a.stats.bypassed).toBe(bypassed + 2);
  });

  it('re-sends in the background until delivered, then the other servers evict and this one serves again', async () => {
    const { shared, read, a, b, state, seenByB } = setup();
    await shared.sessions.createSession(session('s1', 'u1', Date.now()));
    await b.sessions.getSession('s1');
    state.broken = true;
    await expect(a.sessions.deleteSession('s1')).rejects.toThrow();
    // B never heard: it still serves its entry (bounded by maxAgeMs, see the doc comment).
    expect(await b.sessions.getSession('s1')).not.toBeNull();
    await vi.advanceTimersByTimeAsync(1000);
    expect(state.attempts.length).toBeGreaterThan(1);
    state.broken = false;
    await vi.advanceTimersByTimeAsync(2000);
    expect(seenByB).toEqual(['s1']);
    expect(await b.sessions.getSession('s1')).toBeNull();
    // Delivery is known good again: A caches and serves again.
    await shared.sessions.createSession(session('s2', 'u2', Date.now()));
    read.mockClear();
    await a.sessions.getSession('s2');
    await a.sessions.getSession('s2');
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('backs off to at most 2 s between attempts, and keeps trying', async () => {
    const { a, state } = setup({ maxAgeMs: 300_000 });
    state.broken = true;
    const start = Date.now();
    await expect(a.sessions.deleteSession('s1')).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(60_000);
    const gaps = state.attempts.slice(1).map((at, i) => at - (state.attempts[i] ?? start));
    expect(gaps.slice(0, 5)).toEqual([100, 200, 400, 800, 1600]);
    expect(Math.max(...gaps)).toBe(2000);
    expect(state.attempts.length).toBeGreaterThan(30);
  });

  it('gives up messages older than twice maxAgeMs (every entry they would evict has expired), keeping the newest as a probe', async () => {
    const { a, state, seenByB } = setup({ maxAgeMs: 1000 });
    state.broken = true;
    await expect(a.sessions.deleteSession('old')).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(1500);
    await expect(a.sessions.deleteSession('newer')).rejects.toThrow();
    await vi.advanceTimersByTimeAsync(1000);
    state.broken = false;
    // At the next re-send (3.1 s) the first is over 2 s old and given up; the second is not.
    await vi.advanceTimersByTimeAsync(2000);
    expect(seenByB).toEqual(['newer']);
  });

  it('a store write that rejects (maybe applied: a timeout) still tells the other servers', async () => {
    const { shared, a, b, seenByB } = setup({}, (shared) => ({
      ...shared,
      sessions: {
        ...shared.sessions,
        async deleteSession(id) {
          await shared.sessions.deleteSession(id);
          throw new Error('command timed out');
        },
      },
    }));
    await shared.sessions.createSession(session('s1', 'u1', Date.now()));
    await b.sessions.getSession('s1');
    await expect(a.sessions.deleteSession('s1')).rejects.toThrow('command timed out');
    expect(seenByB).toEqual(['s1']);
    expect(await b.sessions.getSession('s1')).toBeNull();
  });

  it('close() stops the re-sending', async () => {
    const { a, state } = setup();
    state.broken = true;
    await expect(a.sessions.deleteSession('s1')).rejects.toThrow();
    await a.close();
    const attempts = state.attempts.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(state.attempts.length).toBe(attempts);
  });
});
