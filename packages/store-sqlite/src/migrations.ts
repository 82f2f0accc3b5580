import type { Database } from 'better-sqlite3';

/**
 * Brings the named set of migrations up to date: runs the entries of `migrations`
 * that the file has not seen yet, in order, and records the new version in
 * `latchkey_migrations`. All of it happens in one transaction, so a failing entry
 * leaves the file as it was. Re-running with the same list does nothing. Throws when
 * the file holds a newer version than `migrations` knows (an older build on a newer
 * file). Returns how many entries were applied.
 */
export function applyMigrations(db: Database, name: string, migrations: readonly string[]): number {
  const migrate = db.transaction(() => {
    db.exec(
      'CREATE TABLE IF NOT EXISTS latchkey_migrations (name TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT',
    );
    const row = db
      .prepare<[string], { version: number }>(
        'SELECT version FROM latchkey_migrations WHERE name = ?',
      )
      .get(name);
    const current = row?.version ?? 0;
    if (current > migrations.length) {
      throw new Error(
        `the database has ${name} migration ${current}, newer than this code's ${migrations.length}`,
      );
    }
    const pending = migrations.slice(current);
    for (const sql of pending) db.exec(sql);
    if (pending.length > 0) {
      db.prepare(
        'INSERT INTO latchkey_migrations (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version',
      ).run(name, migrations.length);
    }
    return pending.length;
  });
  // IMMEDIATE takes the write lock before the version is read, so two processes
  // starting on the same file cannot both apply the same entry.
  return migrate.immediate();
}
