import type { Invalidation, InvalidationChannel } from '@latchkey/core/store-kit';
import { Cluster, Redis } from 'ioredis';
import {
  newRedisClient,
  redisClientOptions,
  sentinelClientOptions,
  topologyOf,
  type RedisNode,
  type RedisTopology,
} from './connection.js';

export type RedisInvalidationOptions = RedisTopology & {
  /** Pub/sub channel name. @default 'latchkey:invalidate' */
  channel?: string;
  /** Publish timeout in milliseconds. @default 1000 */
  commandTimeoutMs?: number;
};

const isInvalidation = (value: unknown): value is Invalidation => {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, id } = value as Record<string, unknown>;
  return (kind === 'session' || kind === 'user') && typeof id === 'string';
};

/**
 * Cross-server invalidation for the near-cache over Redis pub/sub. Healthy only
 * while the subscriber connection is up and subscribed; every (re)subscription
 * tells the cache to flush, because messages sent during the gap are lost.
 *
 * On one node or through Sentinel the subscriber is one connection that reconnects
 * (through Sentinel: to whichever node is the primary then). In a Cluster, classic
 * PUBLISH reaches every node over the cluster bus, so the subscriber is one plain
 * connection to any one node; when that connection ends (its node died) the channel
 * is unhealthy and the next connection goes to another node the Cluster knows, which
 * again flushes the cache. (ioredis' own Cluster subscriber moves silently, without
 * the flush, so it is not used.) Publishing goes through the Cluster client.
 */
export function createRedisInvalidationChannel(
  options: RedisInvalidationOptions,
): InvalidationChannel {
  const channel = options.channel ?? 'latchkey:invalidate';
  const topology = topologyOf(options);
  const base = {
    ...redisClientOptions({ commandTimeoutMs: options.commandTimeoutMs ?? 1000 }),
    lazyConnect: false,
  };
  const publisher = newRedisClient(options, base);
  let subscriber: Redis | undefined;
  let healthy = false;
  let closed = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let onMessage: ((message: Invalidation) => void) | undefined;
  let onReset: (() => void) | undefined;

  // Connection errors are expected during outages; they must never crash the process.
  publisher.on('error', () => undefined);

  function attach(connection: Redis): Redis {
    connection.on('error', () => undefined);
    connection.on('close', () => {
      healthy = false;
    });
    connection.on('ready', () => {
      connection.subscribe(channel).then(
        () => {
          attempt = 0;
          onReset?.();
          healthy = !closed;
        },
        () => {
          healthy = false;
        },
      );
    });
    connection.on('message', (from: string, text: string) => {
      if (from !== channel) return;
      try {
        const message: unknown = JSON.parse(text);
        if (isInvalidation(message)) onMessage?.(message);
      } catch {
        // Not ours; ignore.
      }
    });
    return connection;
  }

  /** Cluster: a node to listen on, from the ones the Cluster knows now (else the seeds). */
  function nextNode(): RedisNode {
    const known =
      publisher instanceof Cluster
        ? publisher
            .nodes()
            .map(({ options: o }) => ({ host: o.host ?? '', port: o.port ?? 0 }))
            .filter((n) => n.host !== '' && n.port > 0)
        : [];
    const seeds = options.cluster?.nodes ?? [];
    const nodes = known.length > 0 ? known : seeds;
    const node = nodes[attempt % nodes.length];
    if (node === undefined) throw new TypeError('cluster.nodes needs at least one host:port');
    return node;
  }

  function listenOnClusterNode(): void {
    if (closed) return;
    const cluster = options.cluster;
    const node = nextNode();
    attempt++;
    const nodeOptions = {
      ...base,
      host: node.host,
      port: node.port,
      autoResubscribe: false,
      // No reconnecting to the same node: 'end' picks another one.
      retryStrategy: () => null,
      ...(cluster?.username === undefined ? {} : { username: cluster.username }),
      ...(cluster?.password === undefined ? {} : { password: cluster.password }),
      ...(cluster?.tls ? { tls: {} } : {}),
    };
    const connection = attach(new Redis(nodeOptions));
    connection.once('end', () => {
      healthy = false;
      if (closed) return;
      retryTimer = setTimeout(listenOnClusterNode, Math.min(50 * 2 ** Math.min(attempt, 5), 1000));
    });
    subscriber = connection;
  }

  if (topology === 'cluster') {
    listenOnClusterNode();
  } else {
    const subscriberOptions = { ...base, autoResubscribe: false };
    subscriber = attach(
      topology === 'sentinel' && options.sentinel
        ? new Redis(sentinelClientOptions(options.sentinel, subscriberOptions))
        : new Redis(options.url as string, subscriberOptions),
    );
  }

  return {
    async publish(message) {
      await publisher.publish(channel, JSON.stringify(message));
    },
    subscribe(handleMessage, handleReset) {
      onMessage = handleMessage;
      onReset = handleReset;
    },
    healthy: () => healthy,
    async close() {
      closed = true;
      healthy = false;
      clearTimeout(retryTimer);
      await Promise.allSettled([publisher.quit(), subscriber?.quit()]);
      publisher.disconnect();
      subscriber?.disconnect();
    },
  };
}
