import type { SessionRecord, UserRecord } from '@latchkey/core/store-kit';

/*
 * Users and sessions as Redis hashes: every value a string, a null field left out.
 * `*Fields` turn a record into HSET's field-value list; `to*` read HGETALL's answer
 * back (null for the empty hash of a missing key).
 */

export const userFields = (user: UserRecord): string[] => [
  'id',
  user.id,
  'email',
  user.email,
  ...(user.name === null ? [] : ['name', user.name]),
  'passwordHash',
  user.passwordHash,
  'createdAt',
  String(user.createdAt),
];

export const sessionFields = (s: SessionRecord): string[] => [
  'id',
  s.id,
  'userId',
  s.userId,
  'secretHash',
  s.secretHash,
  ...(s.previousSecretHash === null ? [] : ['previousSecretHash', s.previousSecretHash]),
  ...(s.rotatedAt === null ? [] : ['rotatedAt', String(s.rotatedAt)]),
  'createdAt',
  String(s.createdAt),
  'lastSeenAt',
  String(s.lastSeenAt),
  'idleExpiresAt',
  String(s.idleExpiresAt),
  'expiresAt',
  String(s.expiresAt),
  ...(s.userAgent === null ? [] : ['userAgent', s.userAgent]),
  ...(s.ip === null ? [] : ['ip', s.ip]),
];

/** A field that must be there: a hash without it was not written by this store. */
function required(hash: Record<string, string>, field: string): string {
  const value = hash[field];
  if (value === undefined) throw new Error(`latchkey record without ${field}`);
  return value;
}

const optionalNumber = (value: string | undefined): number | null =>
  value === undefined ? null : Number(value);

export function toUser(hash: Record<string, string>): UserRecord | null {
  if (hash.id === undefined) return null;
  return {
    id: hash.id,
    email: required(hash, 'email'),
    name: hash.name ?? null,
    passwordHash: required(hash, 'passwordHash'),
    createdAt: Number(required(hash, 'createdAt')),
  };
}

export function toSession(hash: Record<string, string>): SessionRecord | null {
  if (hash.id === undefined) return null;
  return {
    id: hash.id,
    userId: required(hash, 'userId'),
    secretHash: required(hash, 'secretHash'),
    previousSecretHash: hash.previousSecretHash ?? null,
    rotatedAt: optionalNumber(hash.rotatedAt),
    createdAt: Number(required(hash, 'createdAt')),
    lastSeenAt: Number(required(hash, 'lastSeenAt')),
    idleExpiresAt: Number(required(hash, 'idleExpiresAt')),
    expiresAt: Number(required(hash, 'expiresAt')),
    userAgent: hash.userAgent ?? null,
    ip: hash.ip ?? null,
  };
}
