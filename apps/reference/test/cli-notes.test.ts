import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { applyMigrations, createSqliteStore } from '@latchkey/store-sqlite';
import { latchkey } from '../../../packages/cli/test/helpers.js';
import { createSqliteNotes } from '../src/notes.js';
import { registered, startTestServer, TEST_SECRET, type Agent } from './harness.js';

/*
 * `latchkey users delete` runs Latchkey's own deletion, which knows nothing of the app's
 * notes; the notes table's foreign key takes them along, on SQLite and on PostgreSQL.
 */

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function writeNote(agent: Agent, text: string): Promise<void> {
  const reply = await agent.unsafe('POST', '/api/notes', { text });
  expect(reply.status).toBe(201);
}

describe('latchkey users delete takes the account’s notes along', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('SQLite: deleted from the CLI while the server is stopped, no note of the account is left', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-cli-notes-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const server = await startTestServer({}, { dataDir });
    const gone = await registered(server.url);
    const kept = await registered(server.url);
    await writeNote(gone.agent, 'mine');
    await writeNote(kept.agent, 'theirs');
    // The server holds the SQLite file exclusively: the operator stops it first.
    await server.dispose();

    const env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_SECRET: TEST_SECRET };
    const run = await latchkey(['users', 'delete', '--email', gone.email, '--yes'], env);
    expect(run.code).toBe(0);

    const db = new Database(join(dataDir, 'latchkey.sqlite'), { readonly: true });
    try {
      const owners = db.prepare('SELECT user_id FROM notes').pluck().all();
      expect(owners).toEqual([kept.user.id]);
    } finally {
      db.close();
    }
  });

  it('PostgreSQL: deleted from the CLI while the server runs, no note of the account is left', async () => {
    const schema = `cli_notes_${randomBytes(4).toString('hex')}`;
    const env = { DATABASE_URL, LATCHKEY_DATABASE_SCHEMA: schema, LATCHKEY_SECRET: TEST_SECRET };
    const server = await startTestServer(env);
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    cleanups.push(async () => {
      await server.dispose();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    });
    const gone = await registered(server.url);
    const kept = await registered(server.url);
    await writeNote(gone.agent, 'mine');
    await writeNote(kept.agent, 'theirs');

    const run = await latchkey(['users', 'delete', '--email', gone.email, '--yes'], {
      ...env,
      LATCHKEY_DATA_DIR: server.dataDir,
    });
    expect(run.code).toBe(0);

    const { rows } = await pool.query<{ user_id: string }>(`SELECT user_id FROM "${schema}".notes`);
    expect(rows.map((r) => r.user_id)).toEqual([kept.user.id]);
    expect((await gone.agent.request('GET', '/api/notes')).status).toBe(401);
  });

  it('SQLite: a notes table from before the foreign key keeps its notes, less those of deleted accounts', async () => {
    const store = createSqliteStore({ filename: ':memory:' });
    cleanups.push(() => store.close());
    // The table as the first version of the app made it, with a note of a live account
    // and one left behind by an account the CLI deleted.
    applyMigrations(store.db, 'reference-notes', [
      `CREATE TABLE notes (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, text TEXT NOT NULL,
         created_at INTEGER NOT NULL);
       CREATE INDEX notes_user_created ON notes (user_id, created_at);`,
    ]);
    await store.users.createUser({
      id: 'u-live',
      email: 'live@example.com',
      name: null,
      passwordHash: 'x',
      createdAt: 1,
      emailVerifiedAt: null,
      mfa: [],
    });
    const insert = store.db.prepare('INSERT INTO notes VALUES (?, ?, ?, ?)');
    insert.run('n1', 'u-live', 'kept', 1);
    insert.run('n2', 'u-deleted', 'orphan', 2);

    const notes = createSqliteNotes(store.db);
    expect(await notes.list('u-live')).toEqual([
      { id: 'n1', userId: 'u-live', text: 'kept', createdAt: 1 },
    ]);
    expect(await notes.list('u-deleted')).toEqual([]);
    await store.users.deleteUser('u-live');
    expect(await notes.list('u-live')).toEqual([]);
  });
});
