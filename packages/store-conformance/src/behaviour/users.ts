import { describe, expect, it } from 'vitest';
import { newUser, unique } from '../fixtures.js';
import { createdSession, createdUser, type CurrentStore } from '../under-test.js';

/** Users: create, find by id and email, a taken email, copies, password changes, deletion. */
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

    it('updates e-mail verification and the second-factor list of that user only', async () => {
      const user = await createdUser(t.store);
      const other = await createdUser(t.store);

      await t.store.users.updateUser(user.id, { emailVerifiedAt: 1_700_000_000_000 });
      expect(await t.store.users.getUserById(user.id)).toEqual({
        ...user,
        emailVerifiedAt: 1_700_000_000_000,
      });
      await t.store.users.updateUser(user.id, { mfa: ['totp', 'passkey'] });
      expect(await t.store.users.getUserByEmail(user.email)).toEqual({
        ...user,
        emailVerifiedAt: 1_700_000_000_000,
        mfa: ['totp', 'passkey'],
      });
      await t.store.users.updateUser(user.id, { emailVerifiedAt: null, mfa: [] });
      expect(await t.store.users.getUserById(user.id)).toEqual(user);
      await t.store.users.updateUser(unique('user'), { mfa: ['totp'] });
      expect(await t.store.users.getUserById(other.id)).toEqual(other);
    });

    it('deletes a user with every session and record of theirs and frees the email; others stay', async () => {
      const user = await createdUser(t.store);
      const other = await createdUser(t.store);
      const sessions = [
        await createdSession(t.store, user.id),
        await createdSession(t.store, user.id),
      ];
      const kept = await createdSession(t.store, other.id);
      const now = Date.now();
      const record = (userId: string, kind: string) => ({
        kind,
        id: unique('record'),
        userId,
        data: '{}',
        createdAt: now,
        expiresAt: null,
      });
      const records = [record(user.id, 'totp'), record(user.id, 'passkey')];
      const keptRecord = record(other.id, 'totp');
      for (const r of [...records, keptRecord]) await t.store.records.createRecord(r, now);

      expect(await t.store.users.deleteUser(user.id)).toBe(true);

      expect(await t.store.users.getUserById(user.id)).toBeNull();
      expect(await t.store.users.getUserByEmail(user.email)).toBeNull();
      for (const session of sessions)
        expect(await t.store.sessions.getSession(session.id)).toBeNull();
      expect(await t.store.sessions.listUserSessions(user.id, Date.now())).toEqual([]);
      expect(await t.store.users.getUserById(other.id)).toEqual(other);
      expect(await t.store.sessions.getSession(kept.id)).toEqual(kept);
      for (const r of records)
        expect(await t.store.records.getRecord(r.kind, r.id, now)).toBeNull();
      expect(await t.store.records.getRecord('totp', keptRecord.id, now)).toEqual(keptRecord);
      // The email is free for a new account.
      const again = newUser({ email: user.email });
      expect(await t.store.users.createUser(again)).toBe(true);
      expect(await t.store.users.getUserByEmail(user.email)).toEqual(again);
    });

    it('deleting an unknown or already deleted user returns false and changes nothing', async () => {
      const user = await createdUser(t.store);
      expect(await t.store.users.deleteUser(unique('user'))).toBe(false);
      expect(await t.store.users.deleteUser(user.id)).toBe(true);
      expect(await t.store.users.deleteUser(user.id)).toBe(false);
    });
  });
}
