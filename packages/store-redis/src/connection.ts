import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { defineScripts, type ScriptedRedis } from './scripts.js';

/** One Redis (or Sentinel) address. */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * A primary found through Redis Sentinel: the store asks the sentinels which node is
 * the primary of `name` and follows it after a failover.
 */
export interface RedisSentinelTopology {
  /** Some (ideally all) of the sentinels watching `name`. */
  sentinels: readonly RedisNode[];
  /** The primary's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  name: string;
  /** The data nodes' ACL user and password (not the sentinels'). */
  username?: string;
  password?: string;
  /** The sentinels' own password, when they have one. */
  sentinelPassword?: string;
  /** TLS to the data nodes and the sentinels. @default false */
  tls?: boolean;
}

/** A Redis Cluster: the store discovers every node and slot from these seed nodes. */
export interface RedisClusterTopology {
  /** Some (ideally all) of the cluster's primaries. */
  nodes: readonly RedisNode[];
  username?: string;
  password?: string;
  /** TLS to every node. @default false */
  tls?: boolean;
}

/**
 * Where Redis is: exactly one of a URL (one node), a Sentinel-managed primary or a
 * Cluster.
 */
export type RedisTopology =
  | {
      /** `redis://[[user]:password@]host[:port][/db]` or `rediss://` for TLS. */
      url: string;
      sentinel?: never;
      cluster?: never;
    }
  | { url?: never; sentinel: RedisSentinelTopology; cluster?: never }
  | { url?: never; sentinel?: never; cluster: RedisClusterTopology };

export type RedisStoreOptions = RedisTopology & {
  /** Prefix of every key; letters, digits and `:_.-`. @default 'latchkey:' */
  keyPrefix?: string;
  /** A command with no answer in this time rejects. @default 1000 */
  commandTimeoutMs?: number;
  /** Time limit for opening the connection, first and after each drop. @default 2000 */
  connectTimeoutMs?: number;
  /** Connection errors (also the repeated ones while Redis is down). @default ignored */
  onError?: (error: Error) => void;
};

/** The store's client: one connection (a node, or a Sentinel-managed primary) or a Cluster. */
export type RedisClient = Redis | Cluster;

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

type FailClosedOptions = Pick<
  RedisOptions,
  | 'commandTimeout'
  | 'connectTimeout'
  | 'enableOfflineQueue'
  | 'maxRetriesPerRequest'
  | 'retryStrategy'
  | 'lazyConnect'
>;

/**
 * The connection settings that make the store fail closed and recover by itself: a
 * command gets no answer within `commandTimeoutMs` → it rejects; while disconnected
 * every command rejects at once instead of queueing (`enableOfflineQueue: false`); a
 * command that was in flight when the connection dropped gets at most one retry;
 * ioredis keeps reconnecting (back-off up to 1 s) for as long as the store is open.
 */
export function redisClientOptions(
  options: Pick<RedisStoreOptions, 'commandTimeoutMs' | 'connectTimeoutMs'>,
): FailClosedOptions {
  return {
    commandTimeout: positiveInteger('commandTimeoutMs', options.commandTimeoutMs ?? 1000),
    connectTimeout: positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? 2000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 1000),
    lazyConnect: true,
  };
}

function checkNodes(what: string, nodes: readonly RedisNode[]): RedisNode[] {
  if (nodes.length === 0) throw new TypeError(`${what} needs at least one host:port`);
  for (const { host, port } of nodes) {
    if (host === '' || !Number.isSafeInteger(port) || port <= 0 || port > 65_535) {
      throw new TypeError(`${what}: not a host and port: ${host}:${port}`);
    }
  }
  return nodes.map(({ host, port }) => ({ host, port }));
}

/**
 * The ioredis options for the Sentinel topology: the fail-closed settings above, plus
 * sentinels asked again while none answers, and `failoverDetector` so the client drops
 * its connection as soon as the sentinels announce a new primary (instead of waiting
 * for the old one's socket to fail), and a READONLY answer (the node was demoted) makes
 * it ask the sentinels again.
 */
export function sentinelClientOptions<Base extends FailClosedOptions>(
  sentinel: RedisSentinelTopology,
  base: Base,
) {
  if (sentinel.name === '') throw new TypeError('sentinel.name must not be empty');
  return {
    ...base,
    sentinels: checkNodes('sentinel.sentinels', sentinel.sentinels),
    name: sentinel.name,
    ...(sentinel.username === undefined ? {} : { username: sentinel.username }),
    ...(sentinel.password === undefined ? {} : { password: sentinel.password }),
    ...(sentinel.sentinelPassword === undefined
      ? {}
      : { sentinelPassword: sentinel.sentinelPassword }),
    ...(sentinel.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    sentinelRetryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 10), 1000),
    sentinelCommandTimeout: base.commandTimeout ?? 1000,
    failoverDetector: true,
    // A node that answers READONLY was demoted to replica: ask the sentinels again.
    // The command itself fails (fail closed), the next one goes to the new primary.
    reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
  };
}

/**
 * The ioredis Cluster options: every node connection fails closed as above, and the
 * Cluster's own retries (on a closed connection while a primary fails over, on
 * CLUSTERDOWN, on TRYAGAIN) are bounded: at most `maxRedirections` tries 100 ms apart,
 * so a call on a slot without a primary rejects within about a second plus the command
 * timeout instead of waiting for the failover.
 */
export function clusterClientOptions(cluster: RedisClusterTopology, base: FailClosedOptions) {
  const { enableOfflineQueue, retryStrategy, lazyConnect, ...perNode } = base;
  return {
    enableOfflineQueue,
    lazyConnect,
    clusterRetryStrategy: (times: number) =>
      retryStrategy ? (retryStrategy(times) ?? 1000) : 1000,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 8,
    slotsRefreshTimeout: base.commandTimeout ?? 1000,
    // A primary that left (killed, failed over) is found again through MOVED and the
    // periodic slot refresh; its replacement is a new connection.
    slotsRefreshInterval: 2000,
    redisOptions: {
      ...perNode,
      ...(cluster.username === undefined ? {} : { username: cluster.username }),
      ...(cluster.password === undefined ? {} : { password: cluster.password }),
      ...(cluster.tls ? { tls: {} } : {}),
    },
  };
}

/** Which topology `options` names; throws unless exactly one is given. */
export function topologyOf(options: RedisTopology): 'url' | 'sentinel' | 'cluster' {
  const given = (['url', 'sentinel', 'cluster'] as const).filter((k) => options[k] !== undefined);
  const [only] = given;
  if (given.length !== 1 || only === undefined) {
    throw new TypeError(
      `give exactly one of url, sentinel or cluster, got ${given.length === 0 ? 'none' : given.join(' and ')}`,
    );
  }
  return only;
}

/** A new, not yet connected ioredis client for `options`' topology (lazyConnect as `base` says). */
export function newRedisClient(options: RedisTopology, base: FailClosedOptions): RedisClient {
  switch (topologyOf(options)) {
    case 'sentinel':
      return new Redis(sentinelClientOptions(options.sentinel as RedisSentinelTopology, base));
    case 'cluster': {
      const cluster = options.cluster as RedisClusterTopology;
      return new Cluster(
        checkNodes('cluster.nodes', cluster.nodes),
        clusterClientOptions(cluster, base),
      );
    }
    default:
      return new Redis(options.url as string, base);
  }
}

/**
 * The primaries a command on every node must reach: the Cluster's masters, or the
 * single connection itself.
 */
export function primaries(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Every Cluster slot, 0 to 16383. */
const CLUSTER_SLOTS = 16_384;

/**
 * Resolves when every primary answers PING: the one connection, or in a Cluster the
 * primary of every slot (by CLUSTER SLOTS), so a Cluster that lost a primary and has
 * not promoted its replica yet is not reported healthy while part of its keys have no
 * one to serve them.
 */
export async function pingEveryPrimary(client: RedisClient): Promise<void> {
  if (!(client instanceof Cluster)) {
    await client.ping();
    return;
  }
  const ranges = await client.cluster('SLOTS');
  const covered = ranges.reduce((sum, [from, to]) => sum + to - from + 1, 0);
  if (covered < CLUSTER_SLOTS) {
    throw new Error(`Redis Cluster: ${CLUSTER_SLOTS - covered} slots have no primary`);
  }
  const known = new Map(
    client.nodes('master').map((n) => [`${n.options.host}:${n.options.port}`, n]),
  );
  const owners = new Set(ranges.map(([, , primary]) => `${primary?.[0]}:${primary?.[1]}`));
  await Promise.all(
    [...owners].map(async (address) => {
      const node = known.get(address);
      if (!node) throw new Error(`Redis Cluster: no connection to the primary ${address}`);
      await node.ping();
    }),
  );
}

/**
 * The store's connection, with its scripts defined, once it is open. Rejects (and
 * drops the client) when Redis cannot be reached within `connectTimeoutMs` (a Cluster
 * or the sentinels would otherwise keep trying). Connection errors go to `onError`.
 */
export async function connectRedis(options: RedisStoreOptions): Promise<ScriptedRedis> {
  const base = redisClientOptions(options);
  const client = newRedisClient(options, base);
  // Without a listener ioredis prints every reconnect failure; it never throws them.
  const onError = options.onError ?? (() => undefined);
  client.on('error', onError);
  // A Cluster reports a node's connection errors apart from its own.
  if (client instanceof Cluster) client.on('node error', (error: Error) => onError(error));
  const redis = defineScripts(client);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Redis not reachable within ${base.connectTimeout} ms`)),
          base.connectTimeout,
        );
      }),
    ]);
  } catch (error) {
    client.disconnect();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return redis;
}
