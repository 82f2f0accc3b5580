import type { Database } from 'better-sqlite3';
import { applyMigrations } from '@latchkey/store-sqlite';

export interface Note {
  id: string;
  userId: string;
  text: string;
  createdAt: number;
}

/** The reference app's own data: each user's notes. */
export interface NotesStore {
  list(userId: string): Promise<Note[]>;
  create(note: Note): Promise<void>;
  /** Deletes the user's note; false when no such note belongs to that user. */
  delete(userId: string, id: string): Promise<boolean>;
  /** Deletes every note of the user (their account is being deleted); returns how many. */
  deleteAll(userId: string): Promise<number>;
}

/** Notes in the same SQLite file as the sessions, through the same migration mechanism. */
export function createSqliteNotes(db: Database): NotesStore {
  applyMigrations(db, 'reference-notes', [
    `CREATE TABLE notes (
       id TEXT PRIMARY KEY,
       user_id TEXT NOT NULL,
       text TEXT NOT NULL,
       created_at INTEGER NOT NULL
     );
     CREATE INDEX notes_user_created ON notes (user_id, created_at);`,
    // Notes go with their account whatever deletes it: the app's own onAccountDeleted
    // hook, or `latchkey users delete`, which knows nothing of notes. SQLite adds a
    // foreign key only by rebuilding the table; notes of accounts deleted before go now.
    `CREATE TABLE notes_owned (
       id TEXT PRIMARY KEY,
       user_id TEXT NOT NULL REFERENCES latchkey_users (id) ON DELETE CASCADE,
       text TEXT NOT NULL,
       created_at INTEGER NOT NULL
     );
     INSERT INTO notes_owned (id, user_id, text, created_at)
       SELECT id, user_id, text, created_at FROM notes
       WHERE user_id IN (SELECT id FROM latchkey_users);
     DROP TABLE notes;
     ALTER TABLE notes_owned RENAME TO notes;
     CREATE INDEX notes_user_created ON notes (user_id, created_at);`,
  ]);
  const listStmt = db.prepare<
    [string],
    { id: string; user_id: string; text: string; created_at: number }
  >(
    'SELECT id, user_id, text, created_at FROM notes WHERE user_id = ? ORDER BY created_at DESC, id',
  );
  const insertStmt = db.prepare(
    'INSERT INTO notes (id, user_id, text, created_at) VALUES (?, ?, ?, ?)',
  );
  const deleteStmt = db.prepare('DELETE FROM notes WHERE id = ? AND user_id = ?');
  const deleteAllStmt = db.prepare('DELETE FROM notes WHERE user_id = ?');
  return {
    list: (userId) =>
      Promise.resolve(
        listStmt
          .all(userId)
          .map((r) => ({ id: r.id, userId: r.user_id, text: r.text, createdAt: r.created_at })),
      ),
    create: (note) => {
      insertStmt.run(note.id, note.userId, note.text, note.createdAt);
      return Promise.resolve();
    },
    delete: (userId, id) => Promise.resolve(deleteStmt.run(id, userId).changes > 0),
    deleteAll: (userId) => Promise.resolve(deleteAllStmt.run(userId).changes),
  };
}
