import type { QueryResultRow } from 'pg';
import type { SessionRecord, StoredRecord, UserRecord } from '@latchkey/core/store-kit';

/** The tables' rows as pg returns them, and the records they hold. */

/** BIGINT arrives as a string (pg cannot know it fits a double; epoch ms always do). */
const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null ? null : Number(value));

export interface UserRow extends QueryResultRow {
  id: string;
  email: string;
  name: string | null;
  password_hash: string;
  created_at: string;
  email_verified_at: string | null;
  mfa: string[];
}

export interface RecordRow extends QueryResultRow {
  kind: string;
  id: string;
  user_id: string | null;
  data: string;
  created_at: string;
  expires_at: string | null;
}

export const toStoredRecord = (row: RecordRow): StoredRecord => ({
  kind: row.kind,
  id: row.id,
  userId: row.user_id,
  data: row.data,
  createdAt: num(row.created_at),
  expiresAt: numOrNull(row.expires_at),
});

export interface SessionRow extends QueryResultRow {
  id: string;
  user_id: string;
  secret_hash: string;
  previous_secret_hash: string | null;
  rotated_at: string | null;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
}

export const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  email: row.email,
  name: row.name,
  passwordHash: row.password_hash,
  createdAt: num(row.created_at),
  emailVerifiedAt: numOrNull(row.email_verified_at),
  mfa: [...row.mfa],
});

export const toSession = (row: SessionRow): SessionRecord => ({
  id: row.id,
  userId: row.user_id,
  secretHash: row.secret_hash,
  previousSecretHash: row.previous_secret_hash,
  rotatedAt: numOrNull(row.rotated_at),
  createdAt: num(row.created_at),
  lastSeenAt: num(row.last_seen_at),
  idleExpiresAt: num(row.idle_expires_at),
  expiresAt: num(row.expires_at),
  userAgent: row.user_agent,
  ip: row.ip,
});
