/*
 * Key layout (every key starts with `keyPrefix`, `latchkey:` by default):
 *
 *   <p>{u:<userId>}:user       hash   the user record
 *   <p>{u:<userId>}:sessions   zset   the user's session ids, scored by absolute expiry
 *   <p>email:<email>           string the user id owning that email
 *   <p>s:<sessionId>           hash   the session record (it holds userId)
 *   <p>rl:latchkey-<name>:<k>  string rate-limit counters (rate-limiter-flexible)
 *   <p>r:<kind>:<id>           hash   a feature record (factor, passkey, token, lock)
 *   <p>{u:<userId>}:r:<kind>   zset   the user's record ids of that kind, by createdAt
 *   <p>{u:<userId>}:rkinds     set    the kinds the user has records of
 *
 * Redis Cluster. A Lua script may only touch keys of one hash slot. The user hash and
 * the user's session index share the slot `{u:<userId>}`. A session key cannot carry
 * the user's tag: the cookie names only the session id, and `getSession` (run on every
 * request) must find it in one round trip, so the session key is hashed by its own
 * id. How the multi-key session operations keep working without one script across
 * slots is told in sessions.ts.
 */

/** The store's key names under `prefix` (the layout above), for tests and operators. */
export function redisKeys(prefix: string) {
  return {
    user: (userId: string) => `${prefix}{u:${userId}}:user`,
    sessionIndex: (userId: string) => `${prefix}{u:${userId}}:sessions`,
    email: (email: string) => `${prefix}email:${email}`,
    session: (sessionId: string) => `${prefix}s:${sessionId}`,
    rateLimit: (name: string, key: string) => `${prefix}rl:latchkey-${name}:${key}`,
    record: (kind: string, id: string) => `${prefix}r:${kind}:${id}`,
    recordIndex: (userId: string, kind: string) => `${prefix}{u:${userId}}:r:${kind}`,
    recordKinds: (userId: string) => `${prefix}{u:${userId}}:rkinds`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;

/** The key prefix, checked: no braces (they'd change Cluster hash tags) and no glob characters (SCAN MATCH). */
export function checkedKeyPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9:_.-]*$/.test(prefix)) {
    throw new TypeError(`keyPrefix may hold only letters, digits and ":_.-", got ${prefix}`);
  }
  return prefix;
}
