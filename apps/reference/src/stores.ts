import { join } from 'node:path';
import { withNearCache, type LatchkeyStore } from '@latchkey/core/store-kit';
import { createPostgresStore } from '@latchkey/store-postgres';
import { createRedisStore } from '@latchkey/store-redis';
import { createRedisInvalidationChannel } from '@latchkey/store-redis/invalidation';
import { createSqliteStore } from '@latchkey/store-sqlite';
import type { EnvSettings } from './env.js';
import { createSqliteNotes, type NotesStore } from './notes.js';
import { createPostgresNotes } from './notes-postgres.js';

export interface AppStores {
  store: LatchkeyStore;
  notes: NotesStore;
  /** Where things live, for the start-up line. */
  description: string;
}

/**
 * Opens the stores the environment asks for (API.md): Redis for sessions, refresh
 * families and rate-limit counters when LATCHKEY_REDIS_URL is set; PostgreSQL for
 * users and the app's notes (and sessions without Redis) when DATABASE_URL is set;
 * embedded SQLite for whatever is left. Optionally a near-cache in front.
 */
export async function openStores(settings: EnvSettings): Promise<AppStores> {
  const opened: LatchkeyStore[] = [];
  try {
    const postgres = settings.databaseUrl
      ? await createPostgresStore({ connectionString: settings.databaseUrl })
      : null;
    if (postgres) opened.push(postgres);
    const redis = settings.redisUrl ? await createRedisStore({ url: settings.redisUrl }) : null;
    if (redis) opened.push(redis);
    const sqlite = postgres
      ? null
      : createSqliteStore({ filename: join(settings.dataDir, 'latchkey.sqlite') });
    if (sqlite) opened.push(sqlite);

    const users = (postgres ?? sqlite) as LatchkeyStore;
    const sessions = (redis ?? postgres ?? sqlite) as LatchkeyStore;
    const notes = postgres
      ? await createPostgresNotes(postgres.pool, postgres.schema)
      : createSqliteNotes((sqlite as NonNullable<typeof sqlite>).db);

    let store: LatchkeyStore =
      opened.length === 1
        ? users
        : {
            name: opened.map((s) => s.name).join('-'),
            users: users.users,
            sessions: sessions.sessions,
            rateLimits: sessions.rateLimits,
            async ping() {
              await Promise.all(opened.map((s) => s.ping()));
            },
            async close() {
              await Promise.allSettled(opened.map((s) => s.close()));
            },
          };
    if (settings.nearCacheMs !== null && settings.redisUrl) {
      store = withNearCache(store, createRedisInvalidationChannel({ url: settings.redisUrl }), {
        maxAgeMs: settings.nearCacheMs,
      });
    }
    const where = [
      `users in ${users.name}`,
      `sessions in ${sessions.name}`,
      settings.nearCacheMs !== null ? `near-cache ${settings.nearCacheMs / 1000}s` : null,
    ];
    return { store, notes, description: where.filter(Boolean).join(', ') };
  } catch (error) {
    await Promise.allSettled(opened.map((s) => s.close()));
    throw error;
  }
}
