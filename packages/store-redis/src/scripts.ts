import type { RedisClient } from './connection.js';

/*
 * The store's Lua scripts, each on one key. Rotation (compare-and-set), touch and
 * single deletes are one script on one key: atomic on a single node and in a Cluster
 * alike (a one-key script can never be a CROSSSLOT error), and the store uses no
 * MULTI. Keep it that way: a script that needs two keys must take them from one hash
 * tag (keys.ts).
 */

type Reply = Promise<number>;
type MaybeString = Promise<string | null>;

/** The scripts below, as ioredis defines them (EVALSHA, falling back to EVAL once). */
interface Scripts {
  latchkeyCreateUser(key: string, ...fields: string[]): Reply;
  latchkeySetPassword(key: string, passwordHash: string): Reply;
  latchkeyDeleteIfEquals(key: string, value: string): Reply;
  latchkeyPutSession(key: string, expireAt: string, ...fields: string[]): Reply;
  latchkeyTouch(key: string, lastSeenAt: string, idleExpiresAt: string): Reply;
  latchkeyRotate(key: string, expected: string, ...next: string[]): Reply;
  latchkeyDeleteSession(key: string, ownerId: string): MaybeString;
  latchkeyDeleteExpired(key: string, now: string): MaybeString;
  latchkeyIndexAdd(key: string, sessionId: string, expiresAt: string): Reply;
  latchkeyIndexRemove(key: string, ...sessionIds: string[]): Reply;
  latchkeyUpdateUser(key: string, ...fields: string[]): Reply;
  latchkeyCreateRecord(key: string, now: string, expireAt: string, ...fields: string[]): Reply;
  latchkeyTakeRecord(key: string, now: string): Promise<string[]>;
  latchkeyReplaceRecord(
    key: string,
    now: string,
    expectedData: string,
    data: string,
    expireAt: string,
  ): Reply;
  latchkeyDeleteRecordOf(key: string, userId: string): Reply;
  latchkeyDeleteExpiredRecord(key: string, now: string): MaybeString;
}

/** The store's connection with its scripts defined on it. */
export type ScriptedRedis = RedisClient & Scripts;

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

/** Sets `live` to whether KEYS[1] holds a record unexpired at ARGV[1] (app time). */
const RECORD_LIVE = `
local live = false
if redis.call('exists', KEYS[1]) == 1 then
  local e = redis.call('hget', KEYS[1], 'expiresAt')
  live = (not e) or tonumber(e) > tonumber(ARGV[1])
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
  // Deletes a string key only while it still holds ARGV[1] (an email key that still
  // names the user being deleted, not a newer account's).
  latchkeyDeleteIfEquals: `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('del', KEYS[1])`,
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
  // ARGV: field-value pairs to set; a value of '' deletes that field (a null).
  latchkeyUpdateUser: `
if redis.call('exists', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('hdel', KEYS[1], ARGV[i])
  else
    redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1`,
  // Create unless a live record exists (an expired one is replaced); expireAt '' = none.
  latchkeyCreateRecord: `
${RECORD_LIVE}
if live then return 0 end
redis.call('del', KEYS[1])
redis.call('hset', KEYS[1], unpack(ARGV, 3))
if ARGV[2] ~= '' then redis.call('pexpireat', KEYS[1], ARGV[2]) end
return 1`,
  latchkeyTakeRecord: `
${RECORD_LIVE}
if not live then return {} end
local fields = redis.call('hgetall', KEYS[1])
redis.call('del', KEYS[1])
return fields`,
  latchkeyReplaceRecord: `
${RECORD_LIVE}
if not live or redis.call('hget', KEYS[1], 'data') ~= ARGV[2] then return 0 end
redis.call('hset', KEYS[1], 'data', ARGV[3])
if ARGV[4] == '' then
  redis.call('hdel', KEYS[1], 'expiresAt')
  redis.call('persist', KEYS[1])
else
  redis.call('hset', KEYS[1], 'expiresAt', ARGV[4])
  redis.call('pexpireat', KEYS[1], ARGV[4])
end
return 1`,
  latchkeyDeleteRecordOf: `
if redis.call('hget', KEYS[1], 'userId') ~= ARGV[1] then return 0 end
return redis.call('del', KEYS[1])`,
  // Deletes the record if expired at ARGV[1]; returns its owner ('' for none).
  latchkeyDeleteExpiredRecord: `
local v = redis.call('hmget', KEYS[1], 'expiresAt', 'userId')
if not v[1] or tonumber(v[1]) > tonumber(ARGV[1]) then return false end
redis.call('del', KEYS[1])
return v[2] or ''`,
  latchkeyIndexAdd: `
redis.call('zadd', KEYS[1], ARGV[2], ARGV[1])
${PRUNE_INDEX}`,
  latchkeyIndexRemove: `
if #ARGV > 0 then redis.call('zrem', KEYS[1], unpack(ARGV)) end
${PRUNE_INDEX}`,
};

/** Defines every script on `client` (one key each) and returns it, typed with them. */
export function defineScripts(client: RedisClient): ScriptedRedis {
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    client.defineCommand(name, { lua, numberOfKeys: 1 });
  }
  return client as ScriptedRedis;
}
