import { Client } from 'pg';
import {
  withNearCache,
  type Invalidation,
  type InvalidationChannel,
} from '@latchkey/core/store-kit';
import { createMemoryStore } from '@latchkey/core/testing';
import { newSession, newUser, tcpProxy } from '@latchkey/store-conformance';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createPostgresInvalidationChannel,
  MAX_PAYLOAD_BYTES,
  packPayloads,
  type PostgresInvalidationOptions,
} from '../src/invalidation.js';
import { adminQuery, DATABASE_URL, testSchema } from './helpers.js';

/*
 * The LISTEN/NOTIFY channel on the shared PostgreSQL, each test on a channel name of
 * its own. Connection loss and silent partitions go through a TCP proxy in front of
 * the shared server, which is never stopped.
 */

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

function channel(name: string, options: Partial<PostgresInvalidationOptions> = {}) {
  const c = createPostgresInvalidationChannel({
    connectionString: DATABASE_URL,
    channel: name,
    ...options,
  });
  opened.push(c);
  return c;
}

/** Records what a channel delivers and how often it asks for a flush. */
function recorder(c: InvalidationChannel) {
  const seen: Invalidation[] = [];
  const state = { resets: 0 };
  c.subscribe(
    (message) => seen.push(message),
    () => {
      state.resets++;
    },
  );
  return { seen, state };
}

/** A plain LISTEN connection, to look at the payloads as PostgreSQL carries them. */
async function rawListener(name: string) {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  opened.push({ close: () => client.end() });
  const payloads: string[] = [];
  client.on('notification', (n) => {
    if (n.channel === name) payloads.push(n.payload ?? '');
  });
  await client.query(`LISTEN "${name}"`);
  return payloads;
}

async function untilHealthy(c: { healthy(): boolean }) {
  await expect.poll(() => c.healthy(), { timeout: 5000 }).toBe(true);
}

describe('PostgreSQL invalidation channel', () => {
  it('a revoke through one server evicts the cached session on another', async () => {
    const name = testSchema();
    const shared = createMemoryStore();
    const chA = channel(name);
    const chB = channel(name);
    const a = withNearCache(shared, chA);
    const b = withNearCache(shared, chB);
    await untilHealthy(chA);
    await untilHealthy(chB);
    const user = newUser();
    const session = newSession(user.id);
    await a.users.createUser(user);
    await a.sessions.createSession(session);
    expect(await b.sessions.getSession(session.id)).not.toBeNull();
    const before = b.stats.hits;
    expect(await b.sessions.getSession(session.id)).not.toBeNull();
    expect(b.stats.hits).toBe(before + 1);
    await a.sessions.deleteSession(session.id);
    await expect.poll(() => b.sessions.getSession(session.id), { timeout: 1000 }).toBeNull();
  });

  it('delivers every message; reports propagation latency', async () => {
    const name = testSchema();
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
    console.log(
      `invalidation propagation over PostgreSQL LISTEN/NOTIFY (200 messages): p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms`,
    );
  });

  it('publishes made together share NOTIFYs, each payload under 8000 bytes, and all arrive', async () => {
    const name = testSchema();
    const payloads = await rawListener(name);
    const sender = channel(name);
    const receiver = channel(name);
    const { seen } = recorder(receiver);
    await untilHealthy(receiver);
    const ids = Array.from({ length: 2000 }, (_, i) => `${'x'.repeat(40)}-${i}`);
    await Promise.all(ids.map((id) => sender.publish({ kind: 'session', id })));
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(ids.length);
    expect(seen.map((m) => m.id)).toEqual(ids);
    await expect
      .poll(() => payloads.reduce((n, p) => n + (JSON.parse(p) as unknown[]).length, 0))
      .toBe(ids.length);
    expect(payloads.length).toBeLessThan(ids.length / 10);
    for (const payload of payloads) {
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    }
    console.log(`2000 concurrent publishes went as ${payloads.length} NOTIFYs`);
  });

  it('packs payloads up to the limit and sends a message that cannot fit as a flush', () => {
    const small = (i: number): Invalidation => ({ kind: 'user', id: `u${i}`.padEnd(100, '.') });
    const packed = packPayloads(Array.from({ length: 300 }, (_, i) => small(i)));
    expect(packed.flatMap((p) => p.members)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    for (const { payload } of packed) {
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    }
    // Each payload is full: one more entry would not have fitted.
    const entry = Buffer.byteLength(JSON.stringify(small(0)));
    for (const { payload } of packed.slice(0, -1)) {
      expect(Buffer.byteLength(payload) + entry + 1).toBeGreaterThan(MAX_PAYLOAD_BYTES);
    }
    // Multi-byte ids are measured in bytes, not characters.
    const wide = packPayloads([{ kind: 'session', id: 'é'.repeat(3990) }]);
    expect(wide).toEqual([{ payload: '[{"kind":"all"}]', members: [0] }]);
  });

  it('a message too long for NOTIFY reaches the others as a flush, and the publish succeeds', async () => {
    const name = testSchema();
    const sender = channel(name);
    const receiver = channel(name);
    const { seen, state } = recorder(receiver);
    await untilHealthy(receiver);
    const resets = state.resets;
    await sender.publish({ kind: 'session', id: 'z'.repeat(9000) });
    await expect.poll(() => state.resets, { timeout: 2000 }).toBe(resets + 1);
    expect(seen).toEqual([]);
  });

  it('a payload it cannot read (another format, a stranger on the channel) flushes', async () => {
    const name = testSchema();
    const receiver = channel(name);
    const { seen, state } = recorder(receiver);
    await untilHealthy(receiver);
    for (const payload of ['not json', '{"kind":"session","id":"s1"}', '[{"kind":"session"}]']) {
      const resets = state.resets;
      await adminQuery('SELECT pg_notify($1, $2)', [name, payload]);
      await expect.poll(() => state.resets, { timeout: 2000 }).toBe(resets + 1);
    }
    expect(seen).toEqual([]);
  });

  it('is unhealthy after close, so a cache using it serves nothing from memory', async () => {
    const c = createPostgresInvalidationChannel({
      connectionString: DATABASE_URL,
      channel: testSchema(),
    });
    await untilHealthy(c);
    await c.close();
    expect(c.healthy()).toBe(false);
    await expect(c.publish({ kind: 'session', id: 'x' })).rejects.toThrow(/closed/);
    await c.close();
  });

  it('is never healthy when PostgreSQL cannot be reached, and publishing rejects within its limit', async () => {
    const dead = createPostgresInvalidationChannel({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      channel: 'x',
      connectTimeoutMs: 500,
    });
    opened.push(dead);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(dead.healthy()).toBe(false);
    const started = performance.now();
    await expect(dead.publish({ kind: 'session', id: 'x' })).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('refuses bad options when created', () => {
    const base = { connectionString: DATABASE_URL };
    for (const name of ['', 'has space', 'semi;colon', 'quo"te', 'x'.repeat(64)]) {
      expect(() => createPostgresInvalidationChannel({ ...base, channel: name })).toThrow(
        TypeError,
      );
    }
    expect(() => createPostgresInvalidationChannel({ ...base, heartbeatMs: 0 })).toThrow(
      /heartbeatMs/,
    );
    expect(() => createPostgresInvalidationChannel({ ...base, commandTimeoutMs: 1.5 })).toThrow(
      /commandTimeoutMs/,
    );
  });

  it('a lost connection: unhealthy at once, what was sent meanwhile is lost, and a flush comes with the reconnection', async () => {
    const name = testSchema();
    const proxy = await tcpProxy(DATABASE_URL);
    opened.push({ close: () => proxy.cut() });
    const sender = channel(name);
    const receiver = channel(name, { connectionString: proxy.url });
    const { seen, state } = recorder(receiver);
    await untilHealthy(receiver);
    await untilHealthy(sender);
    expect(state.resets).toBe(1);

    await proxy.cut();
    await expect.poll(() => receiver.healthy(), { timeout: 1000 }).toBe(false);
    await sender.publish({ kind: 'session', id: 'sent-in-the-gap' });

    await proxy.restore();
    await untilHealthy(receiver);
    expect(state.resets).toBeGreaterThan(1);
    await sender.publish({ kind: 'session', id: 'sent-after' });
    await expect.poll(() => seen.map((m) => m.id), { timeout: 2000 }).toEqual(['sent-after']);
  });

  it('a silent partition (connection open, nothing answers) is noticed within heartbeatMs + commandTimeoutMs', async () => {
    const name = testSchema();
    const proxy = await tcpProxy(DATABASE_URL);
    opened.push({ close: () => proxy.cut() });
    const heartbeatMs = 200;
    const commandTimeoutMs = 300;
    const receiver = channel(name, {
      connectionString: proxy.url,
      heartbeatMs,
      commandTimeoutMs,
      connectTimeoutMs: 300,
    });
    const { state } = recorder(receiver);
    await untilHealthy(receiver);

    proxy.freeze();
    const frozenAt = performance.now();
    await expect.poll(() => receiver.healthy(), { timeout: 3000, interval: 10 }).toBe(false);
    const noticedMs = performance.now() - frozenAt;
    console.log(
      `silent partition noticed after ${noticedMs.toFixed(0)} ms (bound ${heartbeatMs + commandTimeoutMs} ms)`,
    );
    expect(noticedMs).toBeLessThan(heartbeatMs + commandTimeoutMs + 100);
    // It stays unhealthy while the partition lasts (reconnections cannot get through).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(receiver.healthy()).toBe(false);

    const resets = state.resets;
    proxy.thaw();
    await untilHealthy(receiver);
    expect(state.resets).toBeGreaterThan(resets);
  });
});
