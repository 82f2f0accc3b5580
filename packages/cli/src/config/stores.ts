import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '@latchkey/core';
import {
  withNearCache,
  type InvalidationChannel,
  type LatchkeyStore,
} from '@latchkey/core/store-kit';
import { createPostgresStore, type PostgresStore } from '@latchkey/store-postgres';
import { createRedisStore, type RedisStore } from '@latchkey/store-redis';
import { createPostgresInvalidationChannel } from '@latchkey/store-postgres/invalidation';
import { createRedisInvalidationChannel } from '@latchkey/store-redis/invalidation';
import { createSqliteStore, type SqliteStore } from '@latchkey/store-sqlite';
import { describeError } from '../errors.js';
import type { EnvSettings } from './env.js';

/** The store Latchkey runs on, and the database handle an app may keep its own tables in. */
export interface OpenedStores {
  /** Users, sessions and counters as the environment places them (closing closes all). */
  store: LatchkeyStore;
  /** Where users live: the app's own tables go in the same database (see `applyMigrations`). */
  database: { kind: 'postgres'; store: PostgresStore } | { kind: 'sqlite'; store: SqliteStore };
  /** The Redis store when Redis is configured (LATCHKEY_REDIS_URL, _SENTINELS or _CLUSTER; its `client` for the app's own keys). */
  redis: RedisStore | null;
  /** Where things live, for the start-up line. */
  description: string;
}

export interface OpenStoresOptions {
  /**
   * Open for one operator command (the `latchkey` CLI) instead of a server: only an
   * existing SQLite file (never a new, empty one), no memory cache and a short wait
   * for its lock (a running server holds it); and with Redis, every write is announced
   * to the servers' near-caches even when LATCHKEY_NEAR_CACHE is not set here, since
   * the servers may run with one. @default false
   */
  command?: boolean;
}

/** SQLite database file under the data dir. */
export const sqliteFile = (dataDir: string) => join(dataDir, 'latchkey.sqlite');

/** How long a command waits for the invalidation channel to connect before a publish fails. */
const COMMAND_PUBLISH_WAIT_MS = 2000;

/**
 * A channel whose publish waits (up to `waitMs`) for the connection a command opened a
 * moment ago, instead of failing because it is not up yet: a command publishes right
 * after it starts, a server long after.
 */
function patientChannel(channel: InvalidationChannel, waitMs: number): InvalidationChannel {
  return {
    ...channel,
    async publish(message) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        try {
          await channel.publish(message);
          return;
        } catch (error) {
          if (Date.now() >= deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    },
  };
}

/** Opens a backend; a failure names it and the key that points at it. */
async function opening<T>(
  what: string,
  open: () => Promise<T>,
  reason?: () => unknown,
): Promise<T> {
  try {
    return await open();
  } catch (error) {
    throw new Error(`${what}: ${describeError(reason?.() ?? error)}`, { cause: error });
  }
}

/**
 * Opens the stores the environment asks for (API.md): Redis for sessions, refresh
 * families and rate-limit counters when LATCHKEY_REDIS_URL is set; PostgreSQL for
 * users (and sessions without Redis) when DATABASE_URL is set; embedded SQLite under
 * the data dir for whatever is left. Optionally a near-cache in front. Rejects (having
 * closed what it opened) when a backend cannot be reached.
 */
export async function openLatchkeyStores(
  settings: EnvSettings,
  options: OpenStoresOptions = {},
): Promise<OpenedStores> {
  const command = options.command ?? false;
  const opened: LatchkeyStore[] = [];
  try {
    const { databaseUrl } = settings;
    const redisAt = settings.redis;
    const postgres = databaseUrl
      ? await opening('PostgreSQL at DATABASE_URL', () =>
          createPostgresStore({ connectionString: databaseUrl, schema: settings.databaseSchema }),
        )
      : null;
    if (postgres) opened.push(postgres);
    // ioredis rejects a failed connect with "Connection is closed"; the reason comes as an error event.
    let redisError: unknown;
    const redis: RedisStore | null = redisAt
      ? await opening(
          `Redis at ${redisAt.key}`,
          () =>
            createRedisStore({
              ...redisAt.topology,
              keyPrefix: settings.redisPrefix,
              onError: (error) => void (redisError ??= error),
            }),
          () => redisError,
        )
      : null;
    if (redis) opened.push(redis);
    let sqlite: SqliteStore | null = null;
    if (!postgres) {
      const filename = sqliteFile(settings.dataDir);
      if (command && !existsSync(filename)) {
        throw new ConfigError(
          `LATCHKEY_DATA_DIR: no database at ${resolve(filename)}; point it at the server's data dir (or set DATABASE_URL to the server's PostgreSQL)`,
        );
      }
      sqlite = createSqliteStore(
        command ? { filename, memoryCache: false, busyTimeoutMs: 500 } : { filename },
      );
      opened.push(sqlite);
    }

    const database = postgres
      ? { kind: 'postgres' as const, store: postgres }
      : { kind: 'sqlite' as const, store: sqlite as SqliteStore };
    const users = database.store;
    const sessions: LatchkeyStore = redis ?? users;

    let store: LatchkeyStore =
      opened.length === 1
        ? users
        : {
            name: opened.map((s) => s.name).join('-'),
            users: {
              ...users.users,
              // The user's sessions live in the other store: they go with the user.
              async deleteUser(id) {
                const deleted = await users.users.deleteUser(id);
                await sessions.sessions.deleteUserSessions(id);
                return deleted;
              },
            },
            sessions: sessions.sessions,
            // Second factors and passkeys are durable: they live with the users.
            records: users.records,
            rateLimits: sessions.rateLimits,
            async ping() {
              await Promise.all(opened.map((s) => s.ping()));
            },
            async close() {
              await Promise.allSettled(opened.map((s) => s.close()));
            },
          };
    const nearCacheMs = settings.nearCacheMs ?? (command ? 1000 : null);
    // Invalidations travel over Redis pub/sub, or PostgreSQL LISTEN/NOTIFY without Redis
    // (one channel per schema: NOTIFY channels are per database).
    const channel: InvalidationChannel | null =
      nearCacheMs === null
        ? null
        : redisAt
          ? createRedisInvalidationChannel({
              ...redisAt.topology,
              channel: `${settings.redisPrefix}invalidate`,
            })
          : settings.databaseUrl
            ? createPostgresInvalidationChannel({
                connectionString: settings.databaseUrl,
                channel: `latchkey_invalidate_${settings.databaseSchema}`,
              })
            : null;
    if (nearCacheMs !== null && channel) {
      store = withNearCache(
        store,
        command ? patientChannel(channel, COMMAND_PUBLISH_WAIT_MS) : channel,
        { maxAgeMs: nearCacheMs },
      );
    }
    const where = [
      `users in ${users.name}`,
      `sessions in ${sessions.name}`,
      settings.nearCacheMs !== null ? `near-cache ${settings.nearCacheMs / 1000}s` : null,
    ];
    return { store, database, redis, description: where.filter(Boolean).join(', ') };
  } catch (error) {
    await Promise.allSettled(opened.map((s) => s.close()));
    throw error;
  }
}
