import { applyMigrations, type PostgresPool } from '@latchkey/store-postgres';
import type { Note, NotesStore } from './notes.js';

/** Notes in PostgreSQL, in the same schema and through the same migration mechanism as the store. */
export async function createPostgresNotes(pool: PostgresPool, schema: string): Promise<NotesStore> {
  const client = await pool.connect();
  try {
    await applyMigrations(client, schema, 'reference-notes', [
      `CREATE TABLE notes (
         id TEXT PRIMARY KEY,
         user_id TEXT NOT NULL,
         text TEXT NOT NULL,
         created_at BIGINT NOT NULL
       );
       CREATE INDEX notes_user_created ON notes (user_id, created_at);`,
      // Notes go with their account whatever deletes it (the app's hook, or `latchkey
      // users delete`, which knows nothing of notes); notes of accounts deleted before go now.
      `DELETE FROM notes WHERE user_id NOT IN (SELECT id FROM latchkey_users);
       ALTER TABLE notes ADD CONSTRAINT notes_user_fk
         FOREIGN KEY (user_id) REFERENCES latchkey_users (id) ON DELETE CASCADE;`,
    ]);
  } finally {
    client.release();
  }
  const table = `"${schema}".notes`;
  return {
    async list(userId) {
      const { rows } = await pool.query<{
        id: string;
        user_id: string;
        text: string;
        created_at: string;
      }>(
        `SELECT id, user_id, text, created_at FROM ${table} WHERE user_id = $1 ORDER BY created_at DESC, id`,
        [userId],
      );
      return rows.map((r): Note => ({
        id: r.id,
        userId: r.user_id,
        text: r.text,
        createdAt: Number(r.created_at),
      }));
    },
    async create(note) {
      await pool.query(
        `INSERT INTO ${table} (id, user_id, text, created_at) VALUES ($1, $2, $3, $4)`,
        [note.id, note.userId, note.text, note.createdAt],
      );
    },
    async delete(userId, id) {
      const { rowCount } = await pool.query(`DELETE FROM ${table} WHERE id = $1 AND user_id = $2`, [
        id,
        userId,
      ]);
      return (rowCount ?? 0) > 0;
    },
    async deleteAll(userId) {
      const { rowCount } = await pool.query(`DELETE FROM ${table} WHERE user_id = $1`, [userId]);
      return rowCount ?? 0;
    },
  };
}
