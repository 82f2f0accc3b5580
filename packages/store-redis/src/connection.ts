import { Redis, type RedisOptions } from 'ioredis';
import { defineScripts, type ScriptedRedis } from './scripts.js';

export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://` for TLS. */
  url: string;
  /** Prefix of every key; letters, digits and `:_.-`. @default 'latchkey:' */
  keyPrefix?: string;
  /** A command with no answer in this time rejects. @default 1000 */
  commandTimeoutMs?: number;
  /** Time limit for opening the connection, first and after each drop. @default 2000 */
  connectTimeoutMs?: number;
  /** Connection errors (also the repeated ones while Redis is down). @default ignored */
  onError?: (error: Error) => void;
}

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

/**
 * The store's connection, with its scripts defined, once it is open. Rejects (and
 * drops the client) when Redis cannot be reached. Connection errors go to `onError`.
 */
export async function connectRedis(options: RedisStoreOptions): Promise<ScriptedRedis> {
  const client = new Redis(options.url, redisClientOptions(options));
  // Without a listener ioredis prints every reconnect failure; it never throws them.
  client.on('error', options.onError ?? (() => undefined));
  const redis = defineScripts(client);
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return redis;
}
