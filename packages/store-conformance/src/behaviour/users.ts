import { describe, expect, it } from 'vitest';
import { newUser, unique } from '../fixtures.js';
import { createdUser, type CurrentStore } from '../under-test.js';

/** Users: create, find by id and email, a taken email, copies, password changes. */
export function describeUsers(t: CurrentStore): void {
  describe('users', () => {
    it('creates a user and finds it by id and by email', async () => {
      const user = await createdUser(t.store);
      expect(await t.store.users.getUserById(user.id)).toEqual(user);
      expect(await t.store.users.getUserByEmail(user.email)).toEqual(user);
    });

    it('keeps a null name as null', async () => {
      const user = await createdUser(t.store, { name: null });
      expect(await t.store.users.getUserById(user.id)).toEqual(user);
    });

    it('returns null for an unknown id or email', async () => {
      await createdUser(t.store);
      expect(await t.store.users.getUserById(unique('user'))).toBeNull();
      expect(await t.store.users.getUserByEmail(`${unique('nobody')}@example.test`)).toBeNull();
    });

    it('refuses a taken email and leaves the first user intact', async () => {
      const first = await createdUser(t.store);
      const second = newUser({ email: first.email, name: 'Impostor' });

      expect(await t.store.users.createUser(second)).toBe(false);
      expect(await t.store.users.getUserByEmail(first.email)).toEqual(first);
      expect(await t.store.users.getUserById(second.id)).toBeNull();
    });

    it('returns a copy: changing a returned record does not change the store', async () => {
      const user = await createdUser(t.store);
      const fetched = await t.store.users.getUserById(user.id);
      if (!fetched) throw new Error('user not found');
      fetched.passwordHash = 'tampered';
      expect(await t.store.users.getUserById(user.id)).toEqual(user);
    });

    it('sets the password hash of that user only', async () => {
      const user = await createdUser(t.store);
      const other = await createdUser(t.store);

      await t.store.users.setPasswordHash(user.id, '$argon2id$new-hash');

      expect(await t.store.users.getUserById(user.id)).toEqual({
        ...user,
        passwordHash: '$argon2id$new-hash',
      });
      expect(await t.store.users.getUserByEmail(user.email)).toMatchObject({
        passwordHash: '$argon2id$new-hash',
      });
      expect(await t.store.users.getUserById(other.id)).toEqual(other);
    });
  });
}
