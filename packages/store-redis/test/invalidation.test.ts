import { randomUUID } from 'node:crypto';
import { withNearCache, type SessionRecord } from '@latchkey/core/store-kit';
import { createMemoryStore } from '@latchkey/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisInvalidationChannel } from '../src/invalidation.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

function channel(name: string) {
  const c = createRedisInvalidationChannel({ url: REDIS_URL, channel: name });
  opened.push(c);
  return c;
}

async function untilHealthy(c: { healthy(): boolean }) {
  await expect.poll(() => c.healthy(), { timeout: 5000 }).toBe(true);
}

const session = (id: string): SessionRecord => ({
  id,
  userId: 'u1',
  secretHash: 'h',
  previousSecretHash: null,
  rotatedAt: null,
  createdAt: Date.now(),
  lastSeenAt: Date.now(),
  idleExpiresAt: Date.now() + 60_000,
  expiresAt: Date.now() + 3_600_000,
  userAgent: null,
  ip: null,
});

describe('Redis invalidation channel', () => {
  it('a revoke through one server evicts the cached session on another', async () => {
    const name = `latchkey-test:${randomUUID()}`;
    const shared = createMemoryStore();
    const a = withNearCache(shared, channel(name));
    const chB = channel(name);
    const b = withNearCache(shared, chB);
    await untilHealthy(chB);
    await a.sessions.createSession(session('s1'));
    expect(await b.sessions.getSession('s1')).not.toBeNull();
    const before = b.stats.hits;
    expect(await b.sessions.getSession('s1')).not.toBeNull();
    expect(b.stats.hits).toBe(before + 1);
    await a.sessions.deleteSession('s1');
    await expect.poll(() => b.sessions.getSession('s1'), { timeout: 1000 }).toBeNull();
  });

  it('delivers every message; reports propagation latency', async () => {
    const name = `latchkey-test:${randomUUID()}`;
    const sender = channel(name);
    const receiver = channel(name);
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    receiver.subscribe(
      (message) => {
        const t = sentAt.get(message.id);
        if (t !== undefined) latencies.push(performance.now() - t);
      },
      () => undefined,
    );
    await untilHealthy(receiver);
    for (let i = 0; i < 200; i++) {
      const id = `s${i}`;
      sentAt.set(id, performance.now());
      await sender.publish({ kind: 'session', id });
    }
    await expect.poll(() => latencies.length, { timeout: 5000 }).toBe(200);
    latencies.sort((x, y) => x - y);
    const p = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(2);
    console.log(`invalidation propagation over Redis pub/sub: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms`);
  });

  it('is unhealthy after close, so a cache using it serves nothing from memory', async () => {
    const name = `latchkey-test:${randomUUID()}`;
    const c = createRedisInvalidationChannel({ url: REDIS_URL, channel: name });
    await untilHealthy(c);
    await c.close();
    expect(c.healthy()).toBe(false);
  });

  it('is never healthy when Redis cannot be reached, and publishing rejects (no offline queue)', async () => {
    const dead = createRedisInvalidationChannel({ url: 'redis://127.0.0.1:1', channel: 'x' });
    opened.push(dead);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(dead.healthy()).toBe(false);
    await expect(dead.publish({ kind: 'session', id: 'x' })).rejects.toThrow();
  });
});
