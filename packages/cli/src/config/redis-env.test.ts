import { describe, expect, it } from 'vitest';
import { readEnv } from './env.js';

// Redis topologies from the environment: one node, Sentinel or Cluster, at most one,
// each mistake a one-line error naming the key.
const SECRET = 'a'.repeat(32);
const read = (env: Record<string, string>) => readEnv({ LATCHKEY_SECRET: SECRET, ...env });

describe('readEnv: Redis topologies', () => {
  it('reads LATCHKEY_REDIS_URL as one node', () => {
    expect(read({ LATCHKEY_REDIS_URL: 'redis://10.0.0.5:6379' }).redis).toEqual({
      key: 'LATCHKEY_REDIS_URL',
      topology: { url: 'redis://10.0.0.5:6379' },
    });
    expect(readEnv({}).redis).toBeNull();
  });

  it('reads LATCHKEY_REDIS_SENTINELS with LATCHKEY_REDIS_SENTINEL_NAME', () => {
    const settings = read({
      LATCHKEY_REDIS_SENTINELS: 'sentinel-a:26379, 10.0.0.7:26380,[::1]:26381',
      LATCHKEY_REDIS_SENTINEL_NAME: 'latchkey',
    });
    expect(settings.redis).toEqual({
      key: 'LATCHKEY_REDIS_SENTINELS',
      topology: {
        sentinel: {
          name: 'latchkey',
          sentinels: [
            { host: 'sentinel-a', port: 26379 },
            { host: '10.0.0.7', port: 26380 },
            { host: '::1', port: 26381 },
          ],
        },
      },
    });
    expect(settings.redisUrl).toBeNull();
  });

  it('reads LATCHKEY_REDIS_CLUSTER', () => {
    expect(read({ LATCHKEY_REDIS_CLUSTER: 'redis-1:7000,redis-2:7000' }).redis).toEqual({
      key: 'LATCHKEY_REDIS_CLUSTER',
      topology: {
        cluster: {
          nodes: [
            { host: 'redis-1', port: 7000 },
            { host: 'redis-2', port: 7000 },
          ],
        },
      },
    });
  });

  it('a Sentinel or Cluster Redis is a shared store: it needs the shared secret, and allows the near-cache', () => {
    expect(() => readEnv({ LATCHKEY_REDIS_CLUSTER: 'redis-1:7000' })).toThrow(
      /^LATCHKEY_SECRET: required with a shared store \(LATCHKEY_REDIS_CLUSTER\)/,
    );
    expect(
      read({ LATCHKEY_REDIS_CLUSTER: 'redis-1:7000', LATCHKEY_NEAR_CACHE: '5s' }).nearCacheMs,
    ).toBe(5000);
    expect(
      read({
        LATCHKEY_REDIS_SENTINELS: 's:26379',
        LATCHKEY_REDIS_SENTINEL_NAME: 'm',
        LATCHKEY_NEAR_CACHE: '5s',
      }).nearCacheMs,
    ).toBe(5000);
  });

  it.each([
    [
      { LATCHKEY_REDIS_URL: 'redis://r:6379', LATCHKEY_REDIS_CLUSTER: 'r:7000' },
      /^LATCHKEY_REDIS_CLUSTER: set only one of LATCHKEY_REDIS_URL, LATCHKEY_REDIS_SENTINELS, LATCHKEY_REDIS_CLUSTER/,
    ],
    [
      { LATCHKEY_REDIS_SENTINELS: 's:26379', LATCHKEY_REDIS_CLUSTER: 'r:7000' },
      /^LATCHKEY_REDIS_CLUSTER: set only one of/,
    ],
    [{ LATCHKEY_REDIS_SENTINELS: 's:26379' }, /^LATCHKEY_REDIS_SENTINEL_NAME: required with/],
    [{ LATCHKEY_REDIS_SENTINEL_NAME: 'm' }, /^LATCHKEY_REDIS_SENTINEL_NAME: only used with/],
    [
      { LATCHKEY_REDIS_SENTINELS: 's', LATCHKEY_REDIS_SENTINEL_NAME: 'm' },
      /^LATCHKEY_REDIS_SENTINELS: expected host:port/,
    ],
    [{ LATCHKEY_REDIS_CLUSTER: 'r:7000,,r:7001' }, /^LATCHKEY_REDIS_CLUSTER: expected host:port/],
    [{ LATCHKEY_REDIS_CLUSTER: 'r:70000' }, /^LATCHKEY_REDIS_CLUSTER: expected host:port/],
    [{ LATCHKEY_REDIS_CLUSTER: 'redis://r:7000' }, /^LATCHKEY_REDIS_CLUSTER: expected host:port/],
  ])('refuses %j with one line naming the key', (env, message) => {
    expect(() => read(env)).toThrow(message);
    try {
      read(env);
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
