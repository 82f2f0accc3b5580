import { escapeIdentifier, type ClientBase } from 'pg';

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The schema name, checked: lower-case letters, digits and `_`, as PostgreSQL folds them. */
export function checkedSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError(`schema must be lower-case letters, digits and _, got ${schema}`);
  }
  return schema;
}

/**
 * Brings the named set of migrations in `schema` up to date, in one transaction on
 * `client`: takes a transaction-scoped advisory lock for that schema (so app servers
 * starting together run the migrations one after another, and the later ones find
 * nothing to do), creates the schema and the `latchkey_migrations` table when
 * missing, runs the entries it has not seen yet with `search_path` set to the schema,
 * and records the new version. A failing entry rolls everything back. Throws when the
 * database holds a newer version than `migrations` knows. Returns how many entries ran.
 */
export async function applyMigrations(
  client: ClientBase,
  schema: string,
  name: string,
  migrations: readonly string[],
): Promise<number> {
  const id = escapeIdentifier(checkedSchemaName(schema));
  await client.query('BEGIN');
  try {
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtext('latchkey-migrations'), hashtext($1))",
      [schema],
    );
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${id}`);
    await client.query(`SET LOCAL search_path TO ${id}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${id}.latchkey_migrations (name TEXT PRIMARY KEY, version INTEGER NOT NULL)`,
    );
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${id}.latchkey_migrations WHERE name = $1`,
      [name],
    );
    const current = rows[0]?.version ?? 0;
    if (current > migrations.length) {
      throw new Error(
        `the database has ${name} migration ${current}, newer than this code's ${migrations.length}`,
      );
    }
    const pending = migrations.slice(current);
    for (const sql of pending) await client.query(sql);
    if (pending.length > 0) {
      await client.query(
        `INSERT INTO ${id}.latchkey_migrations (name, version) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version`,
        [name, migrations.length],
      );
    }
    await client.query('COMMIT');
    return pending.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
