/** rate-limiter-flexible's table, in the same file. */
export const RATE_LIMIT_TABLE = 'latchkey_rate_limits';

/**
 * Latchkey's schema, one entry per version. Append new entries; never edit a shipped
 * one. Tables carry a `latchkey_` prefix because the app keeps its own in the same file.
 */
export const MIGRATIONS = [
  `CREATE TABLE latchkey_users (
     id TEXT PRIMARY KEY,
     email TEXT NOT NULL UNIQUE,
     name TEXT,
     password_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE latchkey_sessions (
     id TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES latchkey_users (id) ON DELETE CASCADE,
     secret_hash TEXT NOT NULL,
     previous_secret_hash TEXT,
     rotated_at INTEGER,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL,
     idle_expires_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     user_agent TEXT,
     ip TEXT
   ) STRICT;
   CREATE INDEX latchkey_sessions_user ON latchkey_sessions (user_id, created_at);
   -- rate-limiter-flexible's own layout, created here so it exists before the first hit.
   CREATE TABLE ${RATE_LIMIT_TABLE} (
     key TEXT PRIMARY KEY,
     points INTEGER NOT NULL DEFAULT 0,
     expire INTEGER
   );`,
  // 2: e-mail verification, the user's second factors, and feature records (factors,
  // passkeys, one-time tokens, locks). Records go with their user (account deletion).
  `ALTER TABLE latchkey_users ADD COLUMN email_verified_at INTEGER;
   ALTER TABLE latchkey_users ADD COLUMN mfa TEXT NOT NULL DEFAULT '[]';
   CREATE TABLE latchkey_records (
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     user_id TEXT REFERENCES latchkey_users (id) ON DELETE CASCADE,
     data TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER,
     PRIMARY KEY (kind, id)
   ) STRICT;
   CREATE INDEX latchkey_records_user ON latchkey_records (user_id, kind, created_at);
   CREATE INDEX latchkey_records_expiry ON latchkey_records (expires_at) WHERE expires_at IS NOT NULL;`,
];
