import calculateSlot from 'cluster-key-slot';
import { failClosed } from '@latchkey/core/store-kit';
import {
  describeStoreConformance,
  everyStoreCall,
  HOUR,
  newSession,
  newUser,
} from '@latchkey/store-conformance';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, redisKeys, type RedisTopology } from '../../src/index.js';
import { createRedisInvalidationChannel } from '../../src/invalidation.js';
import {
  expectOnly503,
  LIMITER,
  lostWrites,
  outage,
  replicated,
  startTraffic,
} from './failover.js';
import { keysUnder, sharedStore } from '../helpers.js';
import { admin, startCluster, type ClusterSetup, type RedisProcess } from './setup.js';

/*
 * Redis Cluster: a PRIVATE cluster of three primaries with a replica each
 * (topologies.ts). The shared conformance suite runs on a store that knows only the
 * seed nodes; then nodes are SIGKILLed and the same store and invalidation channel
 * must refuse what has no primary and work again once the cluster has promoted a
 * replica, without being reopened.
 */

let setup: ClusterSetup | undefined;
const up = (): ClusterSetup => {
  if (!setup) throw new Error('the Cluster did not start');
  return setup;
};
const topology = (): RedisTopology => ({ cluster: { nodes: up().seeds } });

beforeAll(async () => {
  setup = await startCluster(3);
}, 60_000);

afterAll(async () => {
  await setup?.stop();
}, 30_000);

describeStoreConformance('redis cluster (3 primaries, 3 replicas)', () =>
  sharedStore({}, topology()),
);

describe('Redis Cluster layout', () => {
  it("spreads sessions over every primary; a user's record and index share a slot; the sweep visits every primary", async () => {
    const { store, prefix, cleanup } = await sharedStore({}, topology());
    try {
      const keys = redisKeys(prefix);
      const user = newUser();
      expect(await store.users.createUser(user)).toBe(true);
      const now = Date.now();
      const sessions = Array.from({ length: 30 }, () =>
        newSession(user.id, { idleExpiresAt: now + HOUR }),
      );
      for (const session of sessions) await store.sessions.createSession(session);

      const cluster = store.client as Cluster;
      const perPrimary = await Promise.all(
        cluster.nodes('master').map(async (node) => {
          const all = await keysUnder(node, prefix);
          return all.filter((key) => key.startsWith(keys.session(''))).length;
        }),
      );
      expect(perPrimary).toHaveLength(3);
      expect(perPrimary.every((count) => count > 0)).toBe(true);
      expect(calculateSlot(keys.user(user.id))).toBe(calculateSlot(keys.sessionIndex(user.id)));

      expect(await store.sessions.listUserSessions(user.id, now)).toHaveLength(30);
      expect(await store.sessions.deleteExpiredSessions(now + 2 * HOUR)).toBe(30);
      expect(await store.sessions.listUserSessions(user.id, now)).toEqual([]);
      expect((await keysUnder(store.client, prefix)).sort()).toEqual(
        [keys.user(user.id), keys.email(user.email)].sort(),
      );
    } finally {
      await cleanup();
    }
  });
});

/** The live nodes on which `channel` has a subscriber (PUBSUB NUMSUB is per node). */
async function subscribedNodes(channel: string): Promise<RedisProcess[]> {
  const live = up().nodes.filter((n) => n.child !== undefined);
  const counts = await Promise.all(
    live.map(async (node) => {
      const [, count] = (await admin(node, (r) => r.pubsub('NUMSUB', channel))) as [string, number];
      return count;
    }),
  );
  return live.filter((_, i) => (counts[i] ?? 0) > 0);
}

describe('Redis Cluster failover', () => {
  it('the invalidation channel hears publishes made through any node and, when its node dies, moves to another one (flushing the cache)', async () => {
    const name = `cluster-inv:${crypto.randomUUID()}`;
    const channel = createRedisInvalidationChannel({ ...topology(), channel: name });
    // A bare publisher (not subscribed itself), so NUMSUB finds only the channel's node.
    const publisher = new Cluster(up().seeds, { enableOfflineQueue: false });
    publisher.on('error', () => undefined);
    const seen: string[] = [];
    let resets = 0;
    channel.subscribe(
      (message) => seen.push(message.id),
      () => resets++,
    );
    let killed: RedisProcess | undefined;
    try {
      await expect.poll(() => channel.healthy(), { timeout: 10_000 }).toBe(true);
      const publishUntilSeen = async (id: string) => {
        await expect
          .poll(
            async () => {
              await publisher.publish(name, JSON.stringify({ kind: 'session', id })).catch(() => 0);
              return seen.includes(id);
            },
            { timeout: 20_000, interval: 200 },
          )
          .toBe(true);
      };
      await publishUntilSeen('before');

      const [node] = await subscribedNodes(name);
      if (!node) throw new Error('no node has the subscription');
      const resetsBefore = resets;
      killed = node;
      await up().kill(node);
      await expect.poll(() => channel.healthy(), { timeout: 10_000 }).toBe(false);
      await expect.poll(() => channel.healthy(), { timeout: 30_000 }).toBe(true);
      // Resubscribed elsewhere: the cache was told to flush (messages in the gap are lost).
      expect(resets).toBeGreaterThan(resetsBefore);
      const [moved] = await subscribedNodes(name);
      expect(moved).toBeDefined();
      expect(moved).not.toBe(node);
      await publishUntilSeen('after');
    } finally {
      await Promise.allSettled([channel.close(), publisher.quit()]);
      publisher.disconnect();
      if (killed) {
        // Back as a replica, so the next test starts from a whole cluster.
        await up().restart(killed);
        await up().settled();
      }
    }
  }, 90_000);

  it('a killed primary: calls on its slots are refused with 503 until its replica takes over, then the same store works again', async () => {
    const errors: Error[] = [];
    const store = await createRedisStore({
      ...topology(),
      keyPrefix: 'failover:',
      onError: (error) => errors.push(error),
    });
    let killed: RedisProcess | undefined;
    try {
      const keys = redisKeys('failover:');
      const user = newUser();
      expect(await store.users.createUser(user)).toBe(true);
      const known = newSession(user.id);
      await store.sessions.createSession(known);
      const primary = await up().primaryOf(calculateSlot(keys.session(known.id)));
      const writer = newUser();
      expect(await store.users.createUser(writer)).toBe(true);
      // A session (of another user: the final checks revoke the user's others) whose
      // key another primary serves.
      let other = newSession(writer.id);
      while ((await up().primaryOf(calculateSlot(keys.session(other.id)))) === primary) {
        other = newSession(writer.id);
      }
      await store.sessions.createSession(other);
      await replicated(primary);
      await replicated(await up().primaryOf(calculateSlot(keys.session(other.id))));

      const limiter = store.rateLimits.createLimiter(LIMITER);
      const traffic = startTraffic(store, writer.id, {
        ping: () => store.ping(),
        getSession: async () => {
          expect(await store.sessions.getSession(known.id)).toEqual(known);
        },
        getOtherSlot: async () => {
          expect(await store.sessions.getSession(other.id)).toEqual(other);
        },
        limiterHit: () => limiter.hit(user.email),
      });
      await expect.poll(() => traffic.rounds.length, { timeout: 10_000 }).toBeGreaterThan(20);

      const killedAt = performance.now();
      killed = primary;
      await up().kill(primary);
      await expect
        .poll(
          () =>
            traffic.rounds.some(
              (r) =>
                r.at > killedAt && r.outcomes.some((o) => o.name === 'getSession' && o.rejected),
            ),
          { timeout: 10_000 },
        )
        .toBe(true);
      await expect
        .poll(() => outage(traffic.rounds, killedAt).recoveredMs !== null, { timeout: 30_000 })
        .toBe(true);
      const recoveredAt = performance.now();
      await expect
        .poll(() => traffic.rounds.filter((r) => r.at > recoveredAt).length, { timeout: 10_000 })
        .toBeGreaterThan(20);
      await traffic.stop();

      expectOnly503(traffic.rounds);
      const figures = outage(traffic.rounds, killedAt);
      // The health check saw it too: a slot without a primary fails ping.
      expect(figures.refusedCalls.ping).toBeGreaterThan(0);
      expect(await up().primaryOf(calculateSlot(keys.session(known.id)))).not.toBe(primary);

      const spare = newSession(user.id);
      await store.sessions.createSession(spare);
      const outcomes = await Promise.allSettled(
        Object.values(
          failClosed(everyStoreCall(store, { user, session: known, spare }), 'after'),
        ).map((call) => call()),
      );
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      expect(await store.sessions.getSession(known.id)).toEqual(known);
      expect(await store.sessions.getSession(other.id)).toEqual(other);
      const { acknowledged, lost } = await lostWrites(store, traffic);
      expect(lost.filter((w) => w.at > killedAt + (figures.recoveredMs ?? 0))).toEqual([]);
      expect(errors.length).toBeGreaterThan(0);

      console.info(
        `cluster failover: first refusal ${Math.round(figures.firstRefusalMs ?? -1)} ms after the kill, ` +
          `answered again ${Math.round(figures.recoveredMs ?? -1)} ms after it; ` +
          `refused ${JSON.stringify(figures.refusedCalls)}, answered meanwhile ${JSON.stringify(figures.answeredCalls)}, ` +
          `slowest call ${Math.round(figures.slowestMs)} ms; ` +
          `acknowledged writes lost: ${lost.length} of ${acknowledged}`,
      );
    } finally {
      await store.close();
      if (killed) {
        await up().restart(killed);
        await up().settled();
      }
    }
  }, 90_000);
});
