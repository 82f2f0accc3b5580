import type { RecordStore, SessionStore, UserStore } from '@latchkey/core/store-kit';
import type { RedisKeys } from './keys.js';
import { toUser, userFields } from './records.js';
import type { ScriptedRedis } from './scripts.js';

/**
 * Users in Redis. createUser writes the user hash (refusing an existing id), then
 * claims the email with SET NX; if the email is taken it deletes the hash again and
 * returns false. An email key is written only after its user exists, so a fault
 * between the steps can leave an unreachable user hash (its id was never returned),
 * never an email that is blocked with no user behind it.
 *
 * deleteUser runs the other way round for the same reason: it frees the email (only
 * if it still names this user), deletes the user hash, then the sessions through
 * their index, then the records. Sign-in reads the user first, so once the hash is gone no new session
 * starts; a fault part-way leaves a user without an email or sessions without a
 * user (both refused when used), and repeating the call finishes the job.
 */
export function createUserStore(
  redis: ScriptedRedis,
  keys: RedisKeys,
  sessions: Pick<SessionStore, 'deleteUserSessions'>,
  records: Pick<RecordStore, 'deleteUserRecords'>,
): UserStore {
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
    async updateUser(userId, patch) {
      const fields: string[] = [];
      if (patch.emailVerifiedAt !== undefined) {
        fields.push(
          'emailVerifiedAt',
          patch.emailVerifiedAt === null ? '' : String(patch.emailVerifiedAt),
        );
      }
      if (patch.mfa !== undefined) fields.push('mfa', JSON.stringify(patch.mfa));
      if (fields.length > 0) await redis.latchkeyUpdateUser(keys.user(userId), ...fields);
    },
    async setPasswordHash(userId, passwordHash) {
      await redis.latchkeySetPassword(keys.user(userId), passwordHash);
    },
    async deleteUser(id) {
      const user = toUser(await redis.hgetall(keys.user(id)));
      if (user) {
        await redis.latchkeyDeleteIfEquals(keys.email(user.email), id);
        await redis.del(keys.user(id));
      }
      await sessions.deleteUserSessions(id);
      await records.deleteUserRecords(id);
      return user !== null;
    },
  };
}
