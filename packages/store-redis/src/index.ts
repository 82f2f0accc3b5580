import { Redis, type RedisOptions } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import {
  fromRateLimiterFlexible,
  rateLimiterFlexibleOptions,
  type LatchkeyStore,
  type SessionRecord,
  type UserRecord,
} from '@latchkey/core/store-kit';

/*
 * Key layout (every key starts with `keyPrefix`, `latchkey:` by default):
 *
 *   <p>{u:<userId>}:user       hash   the user record
 *   <p>{u:<userId>}:sessions   zset   the user's session ids, scored by absolute expiry
 *   <p>email:<email>           string the user id owning that email
 *   <p>s:<sessionId>           hash   the session record (it holds userId)
 *   <p>rl:latchkey-<name>:<k>  string rate-limit counters (rate-limiter-flexible)
 *
 * Redis Cluster. A Lua script may only touch keys of one hash slot. The user hash and
 * the user's session index share the slot `{u:<userId>}`. A session key cannot carry
 * the user's tag: the cookie names only the session id, and `getSession` (run on every
 * request) must find it in one round trip, so the session key is hashed by its own
 * id. We chose one round trip on the hot path over one script for the rare
 * multi-key operations, which therefore run as single-slot steps in an order that
 * keeps the one property that matters: a session that can be used is in its user's
 * index, so revoke-all finds it.
 *
 *   - createSession writes the session first, then adds it to the index. If the second
 *     step fails the call rejects, so the secret is never handed out; the session is
 *     deleted on a best-effort basis and expires by itself anyway.
 *   - So an index entry whose session is missing is never a session still being
 *     created. It is a deleted or expired session, and listing or revoking may drop it.
 *   - deleteUserSessions reads the index, deletes each session (a per-key script that
 *     checks the owner), then removes exactly the ids it read. A session created
 *     meanwhile is not in that read and stays: it counts as created after the revoke,
 *     as it would with SQL.
 *   - The index expires when the last of its sessions does (its TTL is the highest
 *     absolute expiry in it). Every change to the index also drops entries whose
 *     absolute expiry has passed, by the Redis clock that also expires the session
 *     keys, so app servers' clocks can't drop a live session. An empty index is deleted.
 *
 * Rotation (compare-and-set), touch and single deletes are one script on one key:
 * atomic on a single node and in a Cluster alike.
 *
 * Users: createUser writes the user hash (refusing an existing id), then claims the
 * email with SET NX; if the email is taken it deletes the hash again and returns false.
 * An email key is written only after its user exists, so a fault between the steps
 * can leave an unreachable user hash (its id was never returned), never an email
 * that is blocked with no user behind it.
 */

/** The store's key names under `prefix` (the layout above), for tests and operators. */
export function redisKeys(prefix: string) {
  return {
    user: (userId: string) => `${prefix}{u:${userId}}:user`,
    sessionIndex: (userId: string) => `${prefix}{u:${userId}}:sessions`,
    email: (email: string) => `${prefix}email:${email}`,
    session: (sessionId: string) => `${prefix}s:${sessionId}`,
    rateLimit: (name: string, key: string) => `${prefix}rl:latchkey-${name}:${key}`,
  };
}

/** A LatchkeyStore in Redis, plus the client (e.g. for an invalidation channel). */
export interface RedisStore extends LatchkeyStore {
  /** The store's own connection. Don't put it in subscriber mode; duplicate() it instead. */
  readonly client: Redis;
}

export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://` for TLS. */
  url: string;
  /** Prefix of every key; letters, digits and `:_.-`. @default 'latchkey:' */
  keyPrefix?: string;
  /** A command with no answer in this time rejects. @default 1000 */
  commandTimeoutMs?: number;
  /** Time limit for opening the connection, first and after each drop. @default 2000 */
  connectTimeoutMs?: number;
  /** Connection errors (also the repeated ones while Redis is down). @default ignored */
  onError?: (error: Error) => void;
}

type Reply = Promise<number>;
type MaybeString = Promise<string | null>;

/** The scripts below, as ioredis defines them (EVALSHA, falling back to EVAL once). */
interface Scripts {
  latchkeyCreateUser(key: string, ...fields: string[]): Reply;
  latchkeySetPassword(key: string, passwordHash: string): Reply;
  latchkeyPutSession(key: string, expireAt: string, ...fields: string[]): Reply;
  latchkeyTouch(key: string, lastSeenAt: string, idleExpiresAt: string): Reply;
  latchkeyRotate(key: string, expected: string, ...next: string[]): Reply;
  latchkeyDeleteSession(key: string, ownerId: string): MaybeString;
  latchkeyDeleteExpired(key: string, now: string): MaybeString;
  latchkeyIndexAdd(key: string, sessionId: string, expiresAt: string): Reply;
  latchkeyIndexRemove(key: string, ...sessionIds: string[]): Reply;
}

/** Drops entries whose absolute expiry has passed by the server's clock, then sets the TTL to the highest one left. */
const PRUNE_INDEX = `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', '(' .. string.format('%d', now))
local top = redis.call('zrange', KEYS[1], -1, -1, 'withscores')
if top[2] then redis.call('pexpireat', KEYS[1], top[2]) end
return redis.call('zcard', KEYS[1])`;

// The session key expires at min(idle, absolute), so Redis removes it by itself.
const EXPIRE_SESSION = `
local idle = redis.call('hget', KEYS[1], 'idleExpiresAt')
local absolute = redis.call('hget', KEYS[1], 'expiresAt')
if tonumber(idle) < tonumber(absolute) then
  redis.call('pexpireat', KEYS[1], idle)
else
  redis.call('pexpireat', KEYS[1], absolute)
end`;

const SCRIPTS: Record<keyof Scripts, string> = {
  latchkeyCreateUser: `
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], unpack(ARGV))
return 1`,
  latchkeySetPassword: `
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], 'passwordHash', ARGV[1])
return 1`,
  latchkeyPutSession: `
redis.call('del', KEYS[1])
redis.call('hset', KEYS[1], unpack(ARGV, 2))
redis.call('pexpireat', KEYS[1], ARGV[1])
return 1`,
  latchkeyTouch: `
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], 'lastSeenAt', ARGV[1], 'idleExpiresAt', ARGV[2])
${EXPIRE_SESSION}
return 1`,
  // The compare-and-set: a concurrent rotation changed secretHash first, so this one
  // sees a different hash and changes nothing. A missing session has no hash.
  latchkeyRotate: `
if redis.call('hget', KEYS[1], 'secretHash') ~= ARGV[1] then return 0 end
redis.call('hset', KEYS[1], 'secretHash', ARGV[2], 'rotatedAt', ARGV[5],
  'lastSeenAt', ARGV[6], 'idleExpiresAt', ARGV[7])
if ARGV[3] == '1' then
  redis.call('hset', KEYS[1], 'previousSecretHash', ARGV[4])
else
  redis.call('hdel', KEYS[1], 'previousSecretHash')
end
${EXPIRE_SESSION}
return 1`,
  // Deletes the session (only if it belongs to ARGV[1], when given); returns its user id.
  latchkeyDeleteSession: `
local owner = redis.call('hget', KEYS[1], 'userId')
if not owner then return false end
if ARGV[1] ~= '' and owner ~= ARGV[1] then return false end
redis.call('del', KEYS[1])
return owner`,
  latchkeyDeleteExpired: `
local v = redis.call('hmget', KEYS[1], 'userId', 'idleExpiresAt', 'expiresAt')
if not v[1] then return false end
local now = tonumber(ARGV[1])
if tonumber(v[2]) <= now or tonumber(v[3]) <= now then
  redis.call('del', KEYS[1])
  return v[1]
end
return false`,
  latchkeyIndexAdd: `
redis.call('zadd', KEYS[1], ARGV[2], ARGV[1])
${PRUNE_INDEX}`,
  latchkeyIndexRemove: `
if #ARGV > 0 then redis.call('zrem', KEYS[1], unpack(ARGV)) end
${PRUNE_INDEX}`,
};

/** Lua's unpack() is bounded by the C stack; index changes go in chunks of this many ids. */
const ID_CHUNK = 500;
const SCAN_COUNT = '1000';

const userFields = (user: UserRecord): string[] => [
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

const sessionFields = (s: SessionRecord): string[] => [
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

function toUser(hash: Record<string, string>): UserRecord | null {
  if (hash.id === undefined) return null;
  return {
    id: hash.id,
    email: required(hash, 'email'),
    name: hash.name ?? null,
    passwordHash: required(hash, 'passwordHash'),
    createdAt: Number(required(hash, 'createdAt')),
  };
}

function toSession(hash: Record<string, string>): SessionRecord | null {
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

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

type FailClosedOptions = Pick<
  RedisOptions,
  | 'commandTimeout'
  | 'connectTimeout'
  | 'enableOfflineQueue'
  | 'maxRetriesPerRequest'
  | 'retryStrategy'
  | 'lazyConnect'
>;

/**
 * The connection settings that make the store fail closed and recover by itself: a
 * command gets no answer within `commandTimeoutMs` → it rejects; while disconnected
 * every command rejects at once instead of queueing (`enableOfflineQueue: false`); a
 * command that was in flight when the connection dropped gets at most one retry;
 * ioredis keeps reconnecting (back-off up to 1 s) for as long as the store is open.
 */
export function redisClientOptions(
  options: Pick<RedisStoreOptions, 'commandTimeoutMs' | 'connectTimeoutMs'>,
): FailClosedOptions {
  return {
    commandTimeout: positiveInteger('commandTimeoutMs', options.commandTimeoutMs ?? 1000),
    connectTimeout: positiveInteger('connectTimeoutMs', options.connectTimeoutMs ?? 2000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 1000),
    lazyConnect: true,
  };
}

/**
 * A store for many app servers sharing one Redis: users, sessions and rate-limit
 * counters. Redis expires sessions itself (each session key expires at its idle or
 * absolute expiry, whichever is first; touch and rotation move it), per-user session
 * indexes are pruned and expire with their last session, and the keys are laid out for
 * Redis Cluster (see the comment at the top of this file). Rotation is one Lua
 * compare-and-set. Connects before resolving and rejects if Redis cannot be reached.
 * Afterwards it fails closed: any call made while Redis is unreachable rejects within
 * `commandTimeoutMs`, and the store recovers on its own once Redis is back. Connection
 * errors go to `onError` and never crash the process.
 *
 * @param options.url Redis URL (`redis://` or `rediss://`).
 * @param options.keyPrefix Prefix of every key. @default 'latchkey:'
 * @param options.commandTimeoutMs A command with no answer in this time rejects. @default 1000
 * @param options.connectTimeoutMs Limit for opening the connection. @default 2000
 * @param options.onError Receives connection errors. @default ignored
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const prefix = options.keyPrefix ?? 'latchkey:';
  // No braces (they'd change Cluster hash tags) and no glob characters (SCAN MATCH).
  if (!/^[A-Za-z0-9:_.-]*$/.test(prefix)) {
    throw new TypeError(`keyPrefix may hold only letters, digits and ":_.-", got ${prefix}`);
  }
  const client = new Redis(options.url, redisClientOptions(options));
  const onError = options.onError ?? (() => undefined);
  // Without a listener ioredis prints every reconnect failure; it never throws them.
  client.on('error', onError);
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    client.defineCommand(name, { lua, numberOfKeys: 1 });
  }
  const redis = client as Redis & Scripts;
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw error;
  }

  const keys = redisKeys(prefix);

  async function removeFromIndex(userId: string, ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      await redis.latchkeyIndexRemove(keys.sessionIndex(userId), ...ids.slice(i, i + ID_CHUNK));
    }
  }

  let closing: Promise<void> | undefined;

  return {
    name: 'redis',
    client,
    users: {
      async createUser(user) {
        if ((await redis.latchkeyCreateUser(keys.user(user.id), ...userFields(user))) !== 1) {
          throw new Error('a user with this id already exists');
        }
        if ((await client.set(keys.email(user.email), user.id, 'NX')) === 'OK') return true;
        await client.del(keys.user(user.id));
        return false;
      },
      async getUserByEmail(email) {
        const id = await client.get(keys.email(email));
        if (id === null) return null;
        const user = toUser(await client.hgetall(keys.user(id)));
        return user?.email === email ? user : null;
      },
      async getUserById(id) {
        return toUser(await client.hgetall(keys.user(id)));
      },
      async setPasswordHash(userId, passwordHash) {
        await redis.latchkeySetPassword(keys.user(userId), passwordHash);
      },
    },
    sessions: {
      async createSession(session) {
        const expireAt = Math.min(session.idleExpiresAt, session.expiresAt);
        const key = keys.session(session.id);
        await redis.latchkeyPutSession(key, String(expireAt), ...sessionFields(session));
        try {
          await redis.latchkeyIndexAdd(
            keys.sessionIndex(session.userId),
            session.id,
            String(session.expiresAt),
          );
        } catch (error) {
          // Not in the index means revoke-all would miss it: take it back. It also
          // expires by itself, and the caller never gets its secret.
          await client.del(key).catch(() => undefined);
          throw error;
        }
      },
      async getSession(id) {
        return toSession(await client.hgetall(keys.session(id)));
      },
      async touchSession(id, lastSeenAt, idleExpiresAt) {
        await redis.latchkeyTouch(keys.session(id), String(lastSeenAt), String(idleExpiresAt));
      },
      async rotateSecret(id, expectedSecretHash, next) {
        const applied = await redis.latchkeyRotate(
          keys.session(id),
          expectedSecretHash,
          next.secretHash,
          next.previousSecretHash === null ? '0' : '1',
          next.previousSecretHash ?? '',
          String(next.rotatedAt),
          String(next.lastSeenAt),
          String(next.idleExpiresAt),
        );
        return applied === 1;
      },
      async deleteSession(id) {
        const userId = await redis.latchkeyDeleteSession(keys.session(id), '');
        if (userId === null) return false;
        await removeFromIndex(userId, [id]);
        return true;
      },
      async listUserSessions(userId, now) {
        const ids = await client.zrange(keys.sessionIndex(userId), '0', '-1');
        const hashes = await Promise.all(ids.map((id) => client.hgetall(keys.session(id))));
        const live: SessionRecord[] = [];
        const gone: string[] = [];
        ids.forEach((id, i) => {
          const session = toSession(hashes[i] ?? {});
          if (session?.userId !== userId) gone.push(id);
          else if (session.expiresAt > now && session.idleExpiresAt > now) live.push(session);
        });
        if (gone.length > 0) await removeFromIndex(userId, gone);
        return live.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
      },
      async deleteUserSessions(userId, exceptId) {
        const ids = await client.zrange(keys.sessionIndex(userId), '0', '-1');
        const doomed = ids.filter((id) => id !== exceptId);
        const deleted = await Promise.all(
          doomed.map((id) => redis.latchkeyDeleteSession(keys.session(id), userId)),
        );
        await removeFromIndex(userId, doomed);
        return deleted.filter((owner) => owner !== null).length;
      },
      async deleteExpiredSessions(now) {
        // Redis expires sessions by itself; this sweep is for a `now` ahead of Redis'
        // clock. It walks the whole key prefix, so run it rarely or not at all.
        let count = 0;
        let cursor = '0';
        do {
          const [next, found] = await client.scan(
            cursor,
            'MATCH',
            `${prefix}s:*`,
            'COUNT',
            SCAN_COUNT,
          );
          cursor = next;
          const owners = await Promise.all(
            found.map((key) => redis.latchkeyDeleteExpired(key, String(now))),
          );
          const byUser = new Map<string, string[]>();
          owners.forEach((owner, i) => {
            const key = found[i];
            if (owner === null || key === undefined) return;
            const ids = byUser.get(owner) ?? [];
            ids.push(key.slice(`${prefix}s:`.length));
            byUser.set(owner, ids);
            count++;
          });
          for (const [userId, ids] of byUser) await removeFromIndex(userId, ids);
        } while (cursor !== '0');
        return count;
      },
    },
    rateLimits: {
      createLimiter(limiter) {
        const base = rateLimiterFlexibleOptions(limiter);
        return fromRateLimiterFlexible(
          new RateLimiterRedis({
            ...base,
            keyPrefix: `${prefix}rl:${base.keyPrefix}`,
            storeClient: client,
            useRedisPackage: false,
            // Fail at once while disconnected rather than waiting for a timeout.
            rejectIfRedisNotReady: true,
          }),
        );
      },
    },
    async ping() {
      await client.ping();
    },
    close() {
      closing ??= client.quit().then(
        () => undefined,
        () => {
          // Redis is unreachable: there is nothing to say goodbye to.
          client.disconnect();
        },
      );
      return closing;
    },
  };
}
