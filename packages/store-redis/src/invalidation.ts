import type { Invalidation, InvalidationChannel } from '@latchkey/core/store-kit';
import { Redis } from 'ioredis';

export interface RedisInvalidationOptions {
  /** redis:// or rediss:// URL of the Redis all app servers share. */
  url: string;
  /** Pub/sub channel name. @default 'latchkey:invalidate' */
  channel?: string;
  /** Publish timeout in milliseconds. @default 1000 */
  commandTimeoutMs?: number;
}

const isInvalidation = (value: unknown): value is Invalidation => {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, id } = value as Record<string, unknown>;
  return (kind === 'session' || kind === 'user') && typeof id === 'string';
};

/**
 * Cross-server invalidation for the near-cache over Redis pub/sub. Healthy only
 * while the subscriber connection is up and subscribed; every (re)subscription
 * tells the cache to flush, because messages sent during the gap are lost.
 */
export function createRedisInvalidationChannel(
  options: RedisInvalidationOptions,
): InvalidationChannel {
  const channel = options.channel ?? 'latchkey:invalidate';
  const common = {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2000),
  };
  const publisher = new Redis(options.url, {
    ...common,
    commandTimeout: options.commandTimeoutMs ?? 1000,
  });
  const subscriber = new Redis(options.url, { ...common, autoResubscribe: false });
  let healthy = false;
  let closed = false;
  let onMessage: ((message: Invalidation) => void) | undefined;
  let onReset: (() => void) | undefined;

  // Connection errors are expected during outages; they must never crash the process.
  publisher.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  subscriber.on('close', () => {
    healthy = false;
  });
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(
      () => {
        onReset?.();
        healthy = !closed;
      },
      () => {
        healthy = false;
      },
    );
  });
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    try {
      const message: unknown = JSON.parse(text);
      if (isInvalidation(message)) onMessage?.(message);
    } catch {
      // Not ours; ignore.
    }
  });

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
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}
