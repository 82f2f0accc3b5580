import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  startCluster,
  startSentinel,
  type ClusterSetup,
  type SentinelSetup,
} from '../../../store-redis/test/topologies/setup.js';
import { account, openApp, SECRET, sessionIdOf, type App, type Device } from '../helpers.js';

/*
 * The app as `npm start` builds it from the environment (readEnv → openLatchkeyStores →
 * createLatchkey), on a PRIVATE Redis Cluster (LATCHKEY_REDIS_CLUSTER) and a PRIVATE
 * Sentinel setup (LATCHKEY_REDIS_SENTINELS), whose primary is killed while a browser is
 * signed in: its requests get 503 store_unavailable, never a pass, and the same app
 * admits it again after the failover, without a restart.
 */

const ORIGIN = 'http://localhost:3000';
const list = (nodes: { host: string; port: number }[]) =>
  nodes.map(({ host, port }) => `${host}:${port}`).join(',');

async function sessionCheck(app: App, device: Device): Promise<number | string> {
  const reply = await app.latchkey.handle(
    new Request(`${ORIGIN}/auth/session`, { headers: { cookie: device.cookie } }),
  );
  if (reply.status === 200) return 200;
  const body = (await reply.json()) as { error?: { code?: string } };
  return `${reply.status} ${body.error?.code}`;
}

let cluster: ClusterSetup | undefined;
let sentinel: SentinelSetup | undefined;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'latchkey-cli-topologies-'));
  cluster = await startCluster(3);
  sentinel = await startSentinel();
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([cluster?.stop(), sentinel?.stop()]);
  await rm(dataDir, { recursive: true, force: true });
}, 30_000);

describe('the app on a Redis Cluster and behind Sentinel, from the environment', () => {
  it('LATCHKEY_REDIS_CLUSTER: a killed primary gets 503 for the sessions on its slots, then the same app admits them again', async () => {
    if (!cluster) throw new Error('no cluster');
    const prefix = `cli-cluster-${randomUUID()}:`;
    const app = await openApp({
      LATCHKEY_SECRET: SECRET,
      LATCHKEY_DATA_DIR: join(dataDir, 'cluster'),
      LATCHKEY_REDIS_CLUSTER: list(cluster.seeds),
      LATCHKEY_REDIS_PREFIX: prefix,
    });
    try {
      expect(app.opened.description).toContain('sessions in redis');
      const [device] = await account(app, `cluster-${randomUUID()}@example.test`);
      if (!device) throw new Error('no device');
      expect(await sessionCheck(app, device)).toBe(200);

      const sessionKey = `${prefix}s:${sessionIdOf(device)}`;
      const slot = await admin(cluster.seeds[0] ?? cluster.nodes[0]!, (r) =>
        r.cluster('KEYSLOT', sessionKey),
      );
      await cluster.kill(await cluster.primaryOf(slot));
      await expect
        .poll(() => sessionCheck(app, device), { timeout: 10_000 })
        .toBe('503 store_unavailable');
      await expect.poll(() => sessionCheck(app, device), { timeout: 30_000 }).toBe(200);
    } finally {
      await app.close();
    }
  }, 90_000);

  it('LATCHKEY_REDIS_SENTINELS with the near-cache: a killed primary gets 503 (the cache bypassed while its channel is down), then the same app admits again', async () => {
    if (!sentinel) throw new Error('no sentinel');
    const app = await openApp({
      LATCHKEY_SECRET: SECRET,
      LATCHKEY_DATA_DIR: join(dataDir, 'sentinel'),
      LATCHKEY_REDIS_SENTINELS: list(sentinel.sentinels),
      LATCHKEY_REDIS_SENTINEL_NAME: sentinel.name,
      LATCHKEY_REDIS_PREFIX: `cli-sentinel-${randomUUID()}:`,
      LATCHKEY_NEAR_CACHE: '30s',
    });
    try {
      expect(app.opened.description).toContain('near-cache 30s');
      const [device] = await account(app, `sentinel-${randomUUID()}@example.test`);
      if (!device) throw new Error('no device');
      expect(await sessionCheck(app, device)).toBe(200);

      await sentinel.kill(await sentinel.primary());
      await expect
        .poll(() => sessionCheck(app, device), { timeout: 10_000 })
        .toBe('503 store_unavailable');
      await expect.poll(() => sessionCheck(app, device), { timeout: 30_000 }).toBe(200);
    } finally {
      await app.close();
    }
  }, 90_000);
});
