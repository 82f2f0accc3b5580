import type { UserStore } from '@latchkey/core/store-kit';
import type { RedisKeys } from './keys.js';
import { toUser, userFields } from './records.js';
import type { ScriptedRedis } from './scripts.js';

/**
 * Users in Redis. createUser writes the user hash (refusing an existing id), then
 * claims the email with SET NX; if the email is taken it deletes the hash again and
 * returns false. An email key is written only after its user exists, so a fault
 * between the steps can leave an unreachable user hash (its id was never returned),
 * never an email that is blocked with no user behind it.
 */
export function createUserStore(redis: ScriptedRedis, keys: RedisKeys): UserStore {
  return {
    async createUser(user) {
      if ((await redis.latchkeyCreateUser(keys.user(user.id), ...userFields(user))) !== 1) {
        throw new Error('a user with this id already exists');
      }
      if ((await redis.set(keys.email(user.email), user.id, 'NX')) === 'OK') return true;
      await redis.del(keys.user(user.id));
      return false;
    },
    async getUserByEmail(email) {
      const id = await redis.get(keys.email(email));
      if (id === null) return null;
      const user = toUser(await redis.hgetall(keys.user(id)));
      return user?.email === email ? user : null;
    },
    async getUserById(id) {
      return toUser(await redis.hgetall(keys.user(id)));
    },
    async setPasswordHash(userId, passwordHash) {
      await redis.latchkeySetPassword(keys.user(userId), passwordHash);
    },
  };
}
