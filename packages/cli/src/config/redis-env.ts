import { ConfigError } from '@latchkey/core';
import type { RedisNode, RedisTopology } from '@latchkey/store-redis';

/*
 * Where Redis is, from the environment: one node (LATCHKEY_REDIS_URL), a primary found
 * through Sentinel (LATCHKEY_REDIS_SENTINELS + LATCHKEY_REDIS_SENTINEL_NAME) or a
 * Cluster (LATCHKEY_REDIS_CLUSTER). At most one of the three; each error is one line
 * naming the key.
 */

type Env = Record<string, string | undefined>;

/** The Redis topology and the key that set it, for messages ("Redis at LATCHKEY_REDIS_CLUSTER"). */
export interface RedisFromEnv {
  topology: RedisTopology;
  key: 'LATCHKEY_REDIS_URL' | 'LATCHKEY_REDIS_SENTINELS' | 'LATCHKEY_REDIS_CLUSTER';
}

export const REDIS_KEYS = [
  'LATCHKEY_REDIS_URL',
  'LATCHKEY_REDIS_SENTINELS',
  'LATCHKEY_REDIS_CLUSTER',
] as const;

/** `host:port,host:port` (an IPv6 host in brackets: `[::1]:26379`). */
function nodesFrom(key: string, raw: string): RedisNode[] {
  const entries = raw.split(',').map((s) => s.trim());
  return entries.map((entry) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match?.[1] || port < 1 || port > 65_535) {
      throw new ConfigError(
        `${key}: expected host:port[,host:port…], got ${JSON.stringify(entry)} in ${JSON.stringify(raw)}`,
      );
    }
    return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
  });
}

/**
 * The Redis the environment names, or null for none. `url` is LATCHKEY_REDIS_URL,
 * already parsed by the caller's URL check.
 */
export function redisFromEnv(env: Env, url: string | null): RedisFromEnv | null {
  const given = REDIS_KEYS.filter((key) => env[key]?.trim());
  if (given.length > 1) {
    throw new ConfigError(
      `${given[1]}: set only one of ${REDIS_KEYS.join(', ')} (got ${given.join(' and ')})`,
    );
  }
  const name = env.LATCHKEY_REDIS_SENTINEL_NAME?.trim();
  const sentinels = env.LATCHKEY_REDIS_SENTINELS?.trim();
  if (name && !sentinels) {
    throw new ConfigError(
      'LATCHKEY_REDIS_SENTINEL_NAME: only used with LATCHKEY_REDIS_SENTINELS (host:port of the sentinels)',
    );
  }
  if (sentinels) {
    const nodes = nodesFrom('LATCHKEY_REDIS_SENTINELS', sentinels);
    if (!name) {
      throw new ConfigError(
        'LATCHKEY_REDIS_SENTINEL_NAME: required with LATCHKEY_REDIS_SENTINELS (the <name> of the sentinels\' "sentinel monitor <name> …")',
      );
    }
    return { topology: { sentinel: { sentinels: nodes, name } }, key: 'LATCHKEY_REDIS_SENTINELS' };
  }
  const cluster = env.LATCHKEY_REDIS_CLUSTER?.trim();
  if (cluster) {
    return {
      topology: { cluster: { nodes: nodesFrom('LATCHKEY_REDIS_CLUSTER', cluster) } },
      key: 'LATCHKEY_REDIS_CLUSTER',
    };
  }
  return url ? { topology: { url }, key: 'LATCHKEY_REDIS_URL' } : null;
}
