/**
 * The store interfaces. The strategies (session, token) speak only to these; every
 * backend (memory, SQLite, Redis, PostgreSQL) implements them and passes the one
 * conformance suite in @latchkey/store-conformance.
 *
 * Times are epoch milliseconds. A store method throws only on an infrastructure
 * fault (cannot reach the backend, disk error); the core turns any such throw into
 * `503 store_unavailable`, so a store must never swallow a fault and return a
 * "not found" instead.
 */

export interface UserRecord {
  id: string;
  /** Normalised (trimmed, lower-case); unique across users. */
  email: string;
  name: string | null;
  /** PHC string (argon2id). */
  passwordHash: string;
  createdAt: number;
  /** When the user proved they receive mail at `email`; null until then. */
  emailVerifiedAt: number | null;
  /**
   * The second factors the user has on, e.g. `['totp', 'passkey']`: what the user is
   * shown. Sign-in decides from the factor records themselves, never from this list.
   */
  mfa: string[];
}

/** The fields `updateUser` may change; a missing field is left as it is. */
export interface UserPatch {
  emailVerifiedAt?: number | null;
  mfa?: string[];
}

export interface UserStore {
  /** Inserts the user; returns false (and changes nothing) when the email is taken. */
  createUser(user: UserRecord): Promise<boolean>;
  getUserByEmail(email: string): Promise<UserRecord | null>;
  getUserById(id: string): Promise<UserRecord | null>;
  setPasswordHash(userId: string, passwordHash: string): Promise<void>;
  /** Changes the given fields of the user; no-op for an unknown id. */
  updateUser(userId: string, patch: UserPatch): Promise<void>;
  /**
   * Deletes the user, every session (refresh family) and record of theirs, and frees the email
   * for a new account; returns whether a user was deleted. Idempotent: a call that
   * failed part-way may simply be repeated.
   */
  deleteUser(id: string): Promise<boolean>;
}

/**
 * One signed-in device. In session mode `secretHash` is the hash of the cookie's
 * secret; in token mode the record is a refresh family and `secretHash` is the hash
 * of the family's current refresh token.
 */
export interface SessionRecord {
  /** Public handle (safe to show the user); never the secret. */
  id: string;
  userId: string;
  /** base64url SHA-256 of the current secret. Raw secrets are never stored. */
  secretHash: string;
  /** Token mode: hash of the refresh token replaced by the last rotation. */
  previousSecretHash: string | null;
  /** Token mode: when the last rotation happened. */
  rotatedAt: number | null;
  createdAt: number;
  lastSeenAt: number;
  /** Sliding: moves forward on use, never past `expiresAt`. */
  idleExpiresAt: number;
  /** Absolute: never moves. */
  expiresAt: number;
  userAgent: string | null;
  ip: string | null;
}

export interface SessionRotation {
  secretHash: string;
  previousSecretHash: string | null;
  rotatedAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
}

export interface SessionStore {
  createSession(session: SessionRecord): Promise<void>;
  getSession(id: string): Promise<SessionRecord | null>;
  /** Records use: moves `lastSeenAt` and `idleExpiresAt`. No-op for an unknown id. */
  touchSession(id: string, lastSeenAt: number, idleExpiresAt: number): Promise<void>;
  /**
   * Atomic compare-and-set: applies `next` only if the stored `secretHash` still
   * equals `expectedSecretHash`. Returns whether it was applied. Two concurrent
   * callers with the same expectation: exactly one wins, on every backend.
   */
  rotateSecret(id: string, expectedSecretHash: string, next: SessionRotation): Promise<boolean>;
  /** Returns whether a session was deleted. */
  deleteSession(id: string): Promise<boolean>;
  /** The user's sessions that have not expired at `now`, oldest first. */
  listUserSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /** Deletes every session of the user except `exceptId`; returns how many. */
  deleteUserSessions(userId: string, exceptId?: string): Promise<number>;
  /** Removes sessions whose idle or absolute expiry is at or before `now`; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>;
}

export interface LimiterState {
  /** Points consumed in the current window. */
  consumed: number;
  /** Milliseconds until the window resets. */
  msBeforeNext: number;
}

/** A fixed-window counter keyed by string (an account, a client address). */
export interface Limiter {
  /** The current window's state, or null when the key has no hits. */
  get(key: string): Promise<LimiterState | null>;
  /** Adds one hit and returns the new state. Never rejects for being over a limit. */
  hit(key: string): Promise<LimiterState>;
  /** Takes one hit back (never below zero), e.g. for an attempt that turned out fine. */
  refund(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

export interface LimiterOptions {
  /** Namespace for the keys (e.g. `login-account`). */
  name: string;
  /** Window length in milliseconds. */
  windowMs: number;
}

export interface RateLimitStore {
  /** Counters persist in the backend, so limits survive restarts and are shared across servers. */
  createLimiter(options: LimiterOptions): Limiter;
}

/**
 * A small record a feature keeps (a second factor, a passkey, a one-time token, a
 * lock): the store sees an opaque `data` string, so features grow without new tables.
 */
export interface StoredRecord {
  /** The feature's namespace, e.g. `totp`, `passkey`, `reset-token`. */
  kind: string;
  /** Unique within `kind`. For a secret token, its hash, never the token. */
  id: string;
  /** The owner; `deleteByUser` (account deletion) removes every record of theirs. */
  userId: string | null;
  /** Opaque to the store (the features keep JSON here). */
  data: string;
  createdAt: number;
  /** Absolute expiry; null keeps the record until it is deleted. */
  expiresAt: number | null;
}

/**
 * Feature records. A record whose `expiresAt` is at or before `now` is treated as
 * absent by every method that takes `now` (a backend may also drop it natively).
 */
export interface RecordStore {
  /**
   * Inserts the record unless a live one with the same kind and id exists; returns
   * whether it was inserted. Atomic: of two concurrent creates exactly one wins, so
   * this is also a lock and a "seen once" marker. An expired record is replaced.
   */
  createRecord(record: StoredRecord, now: number): Promise<boolean>;
  getRecord(kind: string, id: string, now: number): Promise<StoredRecord | null>;
  /**
   * Deletes and returns the record in one atomic step (single-use tokens): of two
   * concurrent takes exactly one gets it. Null when absent or expired.
   */
  takeRecord(kind: string, id: string, now: number): Promise<StoredRecord | null>;
  /**
   * Compare-and-set: replaces `data` and `expiresAt` only if the live record's `data`
   * still equals `expectedData`; returns whether it did.
   */
  replaceRecord(
    kind: string,
    id: string,
    expectedData: string,
    next: { data: string; expiresAt: number | null },
    now: number,
  ): Promise<boolean>;
  /** Returns whether a record was deleted. */
  deleteRecord(kind: string, id: string): Promise<boolean>;
  /** The user's live records of `kind`, oldest first (then by id). */
  listUserRecords(kind: string, userId: string, now: number): Promise<StoredRecord[]>;
  /** Deletes the user's records of `kind`, or of every kind when omitted; returns how many. */
  deleteUserRecords(userId: string, kind?: string): Promise<number>;
  /** Removes records whose expiry is at or before `now`; returns how many. */
  deleteExpiredRecords(now: number): Promise<number>;
}

/** Everything Latchkey keeps. */
export interface LatchkeyStore {
  readonly name: string;
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly records: RecordStore;
  readonly rateLimits: RateLimitStore;
  /** Resolves when the backend answers; throws when it cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
