import type { LatchkeyStore } from '@latchkey/core';
import { openLatchkeyStores, type EnvSettings } from '@latchkey/cli/config';
import { createSqliteNotes, type NotesStore } from './notes.js';
import { createPostgresNotes } from './notes-postgres.js';

export interface AppStores {
  store: LatchkeyStore;
  notes: NotesStore;
  /** Where things live, for the start-up line. */
  description: string;
}

/**
 * Opens Latchkey's stores as the environment asks (`openLatchkeyStores`, shared with
 * the `latchkey` CLI) and the app's notes in the same database: PostgreSQL when
 * DATABASE_URL is set, else the SQLite file in the data dir.
 */
export async function openStores(settings: EnvSettings): Promise<AppStores> {
  const { store, database, description } = await openLatchkeyStores(settings);
  try {
    const notes =
      database.kind === 'postgres'
        ? await createPostgresNotes(database.store.pool, database.store.schema)
        : createSqliteNotes(database.store.db);
    return { store, notes, description };
  } catch (error) {
    await store.close();
    throw error;
  }
}
