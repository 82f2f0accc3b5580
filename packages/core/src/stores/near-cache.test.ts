import { describeStoreConformance } from '@latchkey/store-conformance';
import { describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from './memory.js';
import { createLocalInvalidationBus, withNearCache } from './near-cache.js';
import type { SessionRecord } from './types.js';

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
