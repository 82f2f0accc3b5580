import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../src/index.js';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A schema no other test (or earlier run) uses, so tests share the database safely. */
export const testSchema = (): string => `latchkey_test_${randomBytes(8).toString('hex')}`;

/** Runs one statement on a connection of its own (not the store's pool). */
export async function adminQuery(text: string, values: unknown[] = []): Promise<unknown[]> {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

export const dropSchema = (schema: string) =>
  adminQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);

/** A store in a fresh schema of the shared database, and a cleanup that drops the schema. */
export async function sharedStore(
  options: Partial<PostgresStoreOptions> = {},
): Promise<{ store: PostgresStore; schema: string; cleanup: () => Promise<void> }> {
  const schema = testSchema();
  const store = await createPostgresStore({
    connectionString: DATABASE_URL,
    schema,
    max: 4,
    ...options,
  });
  return {
    store,
    schema,
    cleanup: async () => {
      try {
        await store.close();
      } finally {
        await dropSchema(schema);
      }
    },
  };
}
