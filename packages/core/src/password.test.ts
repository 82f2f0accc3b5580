import { describe, expect, it } from 'vitest';
import { LatchkeyError } from './errors.js';
import {
  createPasswordHasher,
  hashPassword,
  verifyAgainstDummy,
  verifyPassword,
} from './password.js';

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
    const hasher = createPasswordHasher({ concurrency: 2, maxWaiting: 10 });
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
    const hasher = createPasswordHasher({ concurrency: 1, maxWaiting: 10 });
    const results = await Promise.all([
      hasher.verify('not-a-hash', 'x'),
      hasher.verify('still-not-a-hash', 'y'),
    ]);
    expect(results).toEqual([false, false]);
    expect(await hasher.hash('correct horse battery staple')).toMatch(/^\$argon2id\$/);
  });

  it('refuses work beyond the bounded line with 503 overloaded and a Retry-After', async () => {
    const hasher = createPasswordHasher({ concurrency: 1, maxWaiting: 2 });
    const settled = ['a', 'b', 'c', 'd', 'e'].map((word) =>
      hasher.hash(`${word} correct horse battery staple`, 'register').then(
        () => 'hashed',
        (error: unknown) => error,
      ),
    );
    const outcomes = await Promise.all(settled);
    expect(outcomes.filter((o) => o === 'hashed')).toHaveLength(3);
    const refused = outcomes.filter((o) => o instanceof LatchkeyError);
    expect(refused).toHaveLength(2);
    for (const error of refused) {
      expect(error).toMatchObject({ code: 'overloaded', status: 503 });
      expect(Number(error.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    }
  });

  it('serves sign-ins from known devices first and pushes sign-ups out of a full line', async () => {
    const hasher = createPasswordHasher({ concurrency: 1, maxWaiting: 2 });
    const order: string[] = [];
    const track = (label: string, work: Promise<unknown>) =>
      work.then(
        () => order.push(label),
        (error: unknown) => order.push(`${label}:${(error as LatchkeyError).code}`),
      );
    const running = track('first', hasher.hash('first correct horse battery', 'register'));
    const signUps = [
      track('signup-1', hasher.hash('one correct horse battery', 'register')),
      track('signup-2', hasher.hash('two correct horse battery', 'register')),
    ];
    // The line is full of sign-ups; a login from a known device takes the newest one's place.
    const known = track('known', hasher.verifyAgainstDummy('guess', 'known_device'));
    await Promise.all([running, ...signUps, known]);
    expect(order).toEqual(['signup-2:overloaded', 'first', 'known', 'signup-1']);
  });
});
