import type { SessionRecord, StoredRecord, UserRecord } from '@latchkey/core/store-kit';

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
  ...(user.emailVerifiedAt === null ? [] : ['emailVerifiedAt', String(user.emailVerifiedAt)]),
  'mfa',
  JSON.stringify(user.mfa),
];

export const recordFields = (r: StoredRecord): string[] => [
  'kind',
  r.kind,
  'id',
  r.id,
  ...(r.userId === null ? [] : ['userId', r.userId]),
  'data',
  r.data,
  'createdAt',
  String(r.createdAt),
  ...(r.expiresAt === null ? [] : ['expiresAt', String(r.expiresAt)]),
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
    emailVerifiedAt: optionalNumber(hash.emailVerifiedAt),
    // Users written before the field existed have no second factor.
    mfa: hash.mfa === undefined ? [] : (JSON.parse(hash.mfa) as string[]),
  };
}

export function toRecord(hash: Record<string, string>): StoredRecord | null {
  if (hash.id === undefined) return null;
  return {
    kind: required(hash, 'kind'),
    id: hash.id,
    userId: hash.userId ?? null,
    data: required(hash, 'data'),
    createdAt: Number(required(hash, 'createdAt')),
    expiresAt: optionalNumber(hash.expiresAt),
  };
}

/** HGETALL-style flat [field, value, …] list as an object. */
export function pairs(flat: readonly string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string;
  return hash;
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
