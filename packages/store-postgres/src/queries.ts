import { escapeIdentifier, type Pool, type QueryResult, type QueryResultRow } from 'pg';
import { RATE_LIMIT_TABLE } from './schema.js';

/** What the user and session queries share: the pool, a named-statement runner, the tables. */
export interface Queries {
  readonly pool: Pool;
  /** Named statements are parsed and planned once per connection. */
  readonly run: <R extends QueryResultRow>(
    name: string,
    text: string,
    values: unknown[],
  ) => Promise<QueryResult<R>>;
  /** Schema-qualified, quoted table names. */
  readonly tables: { users: string; sessions: string; records: string; limits: string };
}

export function createQueries(pool: Pool, schema: string): Queries {
  const s = escapeIdentifier(schema);
  return {
    pool,
    run: <R extends QueryResultRow>(name: string, text: string, values: unknown[]) =>
      pool.query<R>({ name: `latchkey-${name}`, text, values }),
    tables: {
      users: `${s}.latchkey_users`,
      sessions: `${s}.latchkey_sessions`,
      records: `${s}.latchkey_records`,
      limits: `${s}.${RATE_LIMIT_TABLE}`,
    },
  };
}

/** The first row of a query's result as a record, or null when it matched none. */
export function firstRecord<R extends QueryResultRow, T>(
  { rows }: QueryResult<R>,
  toRecord: (row: R) => T,
): T | null {
  return rows[0] ? toRecord(rows[0]) : null;
}
