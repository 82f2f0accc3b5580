import { describe, expect, it } from 'vitest';
import {
  checkPasswordPolicy,
  createPasswordHasher,
  hashPassword,
  verifyAgainstDummy,
  verifyPassword,
} from './password.js';

const limits = { minLength: 15, maxLength: 128 };

describe('checkPasswordPolicy', () => {
  it('accepts a long passphrase', () => {
    expect(
      checkPasswordPolicy('correct horse battery staple', 'ada@example.com', limits),
    ).toBeNull();
  });

  it('counts characters, not bytes', () => {
    expect(checkPasswordPolicy('ünïcødé-pässwørd', 'ada@example.com', limits)).toBeNull();
    expect(checkPasswordPolicy('😀'.repeat(14), 'ada@example.com', limits)).toBe('too_short');
  });

  it('enforces both length bounds', () => {
    expect(checkPasswordPolicy('a'.repeat(14), 'ada@example.com', limits)).toBe('too_short');
    expect(checkPasswordPolicy('ab'.repeat(65), 'ada@example.com', limits)).toBe('too_long');
  });

  it('rejects breached-list passwords case-insensitively, when the minimum allows them', () => {
    expect(
      checkPasswordPolicy('Password1', 'ada@example.com', { minLength: 8, maxLength: 128 }),
    ).toBe('common');
    expect(checkPasswordPolicy('PasswordPassword', 'ada@example.com', limits)).toBe('common');
  });

  it("rejects a password containing the email's local part", () => {
    expect(
      checkPasswordPolicy('my name is Ada.Lovelace ok', 'ada.lovelace@example.com', limits),
    ).toBe('contains_email');
  });
});

describe('argon2id hashing', () => {
  it('produces an argon2id PHC string at OWASP cost and verifies only the right password', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapler')).toBe(false);
  });

  it('treats a malformed stored hash as a mismatch, never a throw', async () => {
    expect(await verifyPassword('not-a-hash', 'x')).toBe(false);
  });

  it('spends a real verification for unknown accounts', async () => {
    expect(await verifyAgainstDummy('anything at all here')).toBe(false);
  });
});

describe('createPasswordHasher', () => {
  it('runs at most `concurrency` computations; the rest wait in line and all finish', async () => {
    const hasher = createPasswordHasher(2);
    const pending = ['one', 'two', 'three', 'four', 'five'].map((word) =>
      hasher.hash(`${word} correct horse battery staple`),
    );
    expect(hasher.waiting).toBe(3);
    const [first] = await Promise.race(pending.map((p) => p.then((h) => [h])));
    expect(first).toMatch(/^\$argon2id\$/);
    expect(hasher.waiting).toBeLessThanOrEqual(2);
    const hashes = await Promise.all(pending);
    expect(hasher.waiting).toBe(0);
    expect(await hasher.verify(hashes[4] as string, 'five correct horse battery staple')).toBe(
      true,
    );
    expect(await hasher.verifyAgainstDummy('nobody')).toBe(false);
  });

  it('frees the slot when a computation fails', async () => {
    const hasher = createPasswordHasher(1);
    const results = await Promise.all([
      hasher.verify('not-a-hash', 'x'),
      hasher.verify('still-not-a-hash', 'y'),
    ]);
    expect(results).toEqual([false, false]);
    expect(await hasher.hash('correct horse battery staple')).toMatch(/^\$argon2id\$/);
  });
});
