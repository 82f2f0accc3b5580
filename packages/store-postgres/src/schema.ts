/** rate-limiter-flexible's table, in the store's schema. */
export const RATE_LIMIT_TABLE = 'latchkey_rate_limits';

/**
 * Latchkey's schema, one entry per version. Append new entries; never edit a shipped
 * one. Same tables as the SQLite store; times are BIGINT epoch milliseconds. Entries
 * run with `search_path` set to the store's schema (see migrations.ts).
 */
export const MIGRATIONS = [
  `CREATE TABLE latchkey_users (
     id TEXT PRIMARY KEY,
     email TEXT NOT NULL UNIQUE,
     name TEXT,
     password_hash TEXT NOT NULL,
     created_at BIGINT NOT NULL
   );
   CREATE TABLE latchkey_sessions (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES latchkey_users (id) ON DELETE CASCADE,
     secret_hash TEXT NOT NULL,
     previous_secret_hash TEXT,
     rotated_at BIGINT,
     created_at BIGINT NOT NULL,
     last_seen_at BIGINT NOT NULL,
     idle_expires_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     user_agent TEXT,
     ip TEXT
   );
   CREATE INDEX latchkey_sessions_user ON latchkey_sessions (user_id, created_at);
   CREATE INDEX latchkey_sessions_expiry ON latchkey_sessions (LEAST(idle_expires_at, expires_at));
   -- rate-limiter-flexible's own layout (column order matters to its INSERT), created here
   -- so it exists before the first hit; TEXT rather than its varchar(255), so a long key
   -- (an email) cannot make a hit fail.
   CREATE TABLE ${RATE_LIMIT_TABLE} (
     key TEXT PRIMARY KEY,
     points INTEGER NOT NULL DEFAULT 0,
     expire BIGINT
   );
   CREATE INDEX latchkey_rate_limits_expire ON ${RATE_LIMIT_TABLE} (expire);`,
  // 2: e-mail verification, the user's second factors, and feature records (factors,
  // passkeys, one-time tokens, locks). Records go with their user (account deletion).
  `ALTER TABLE latchkey_users ADD COLUMN email_verified_at BIGINT;
   ALTER TABLE latchkey_users ADD COLUMN mfa TEXT[] NOT NULL DEFAULT '{}';
   CREATE TABLE latchkey_records (
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     user_id TEXT REFERENCES latchkey_users (id) ON DELETE CASCADE,
     data TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     expires_at BIGINT,
     PRIMARY KEY (kind, id)
   );
   CREATE INDEX latchkey_records_user ON latchkey_records (user_id, kind, created_at);
   CREATE INDEX latchkey_records_expiry ON latchkey_records (expires_at) WHERE expires_at IS NOT NULL;`,
];
