import type { UserStore } from '@latchkey/core/store-kit';
import { firstRecord, type Queries } from './queries.js';
import { toUser, type UserRow } from './rows.js';

/** Users in `latchkey_users`. */
export function createUserStore({ run, tables: { users } }: Queries): UserStore {
  return {
    async createUser(user) {
      // Only an email clash is a "no"; any other failure (a duplicate id) throws.
      const { rowCount } = await run(
        'create-user',
        `INSERT INTO ${users} (id, email, name, password_hash, created_at, email_verified_at, mfa)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING`,
        [
          user.id,
          user.email,
          user.name,
          user.passwordHash,
          user.createdAt,
          user.emailVerifiedAt,
          user.mfa,
        ],
      );
      return rowCount === 1;
    },
    async getUserByEmail(email) {
      const found = await run<UserRow>('user-by-email', `SELECT * FROM ${users} WHERE email = $1`, [
        email,
      ]);
      return firstRecord(found, toUser);
    },
    async getUserById(id) {
      const found = await run<UserRow>('user-by-id', `SELECT * FROM ${users} WHERE id = $1`, [id]);
      return firstRecord(found, toUser);
    },
    async updateUser(userId, patch) {
      // A missing field keeps its value: $2/$4 say whether to set it.
      await run(
        'update-user',
        `UPDATE ${users} SET
           email_verified_at = CASE WHEN $2 THEN $3::bigint ELSE email_verified_at END,
           mfa = CASE WHEN $4 THEN $5::text[] ELSE mfa END
         WHERE id = $1`,
        [
          userId,
          patch.emailVerifiedAt !== undefined,
          patch.emailVerifiedAt ?? null,
          patch.mfa !== undefined,
          patch.mfa ?? [],
        ],
      );
    },
    async setPasswordHash(userId, passwordHash) {
      await run('set-password', `UPDATE ${users} SET password_hash = $2 WHERE id = $1`, [
        userId,
        passwordHash,
      ]);
    },
    async deleteUser(id) {
      // The sessions go with the user: `ON DELETE CASCADE`.
      const { rowCount } = await run('delete-user', `DELETE FROM ${users} WHERE id = $1`, [id]);
      return rowCount === 1;
    },
  };
}
