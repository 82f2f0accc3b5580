import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import type { SecurityEvent } from '../log.js';
import { createMemoryStore } from '../stores/memory.js';
import { createAuthContext, type AuthContext } from './context.js';
import { login } from './login.js';
import { finishSignIn } from './login-mfa.js';
import { beginTotp, confirmTotp, disableTotp } from './mfa.js';
import { RECOVERY_CODE_KIND } from './recovery-codes.js';
import { register } from './register.js';
import { hasSecondFactor, verifySecondFactor } from './second-factor.js';
import { markRecentlyAuthenticated, RECENT_AUTH_MS, requireRecentAuth } from './step-up.js';
import { TOTP_KIND, totpCode, totpStep } from './totp.js';

// TOTP, recovery codes, the two-step sign-in and step-up as operations: values in,
// results out, on the memory store with an injected clock.

const PASSWORD = 'correct horse battery staple';
const client = { ip: '192.0.2.7', userAgent: 'test' };
const caller = { client, presented: null };

// RFC 6238 appendix B, SHA-1: the seed is the ASCII of "12345678901234567890"; the
// expected codes are the last six digits of the RFC's eight-digit values.
const RFC_SEED = Secret.fromUTF8('12345678901234567890').base32;
const RFC_VECTORS: [number, string][] = [
  [59, '287082'],
  [1111111109, '081804'],
  [1111111111, '050471'],
  [1234567890, '005924'],
  [2000000000, '279037'],
  [20000000000, '353130'],
];

function setup(loginLimit = 5) {
  const store = createMemoryStore();
  let clock = Date.UTC(2026, 0, 1, 12, 0, 0);
  const config = resolveConfig({
    store,
    secrets: ['s'.repeat(32)],
    publicUrl: 'http://localhost:3000',
    rateLimit: { loginLimit },
    logger: () => undefined,
    now: () => clock,
  });
  const events: SecurityEvent[] = [];
  const ctx: AuthContext = createAuthContext(config, store, (event) => events.push(event));
  return {
    ctx,
    store,
    events,
    now: () => clock,
    advance(ms: number) {
      clock += ms;
    },
  };
}

type Setup = ReturnType<typeof setup>;

/** A signed-in account with TOTP on: its seed, recovery codes and principal. */
async function withTotp(t: Setup) {
  const registered = await register(
    t.ctx,
    { email: 'ada@example.com', password: PASSWORD, name: 'Ada' },
    caller,
  );
  if (!registered.ok) throw registered.error;
  const principal = {
    userId: registered.user.id,
    sessionId: registered.signIn.session.id,
    session: registered.signIn.session,
  };
  const enrolment = await beginTotp(t.ctx, principal);
  if (!enrolment.ok) throw enrolment.error;
  const confirmed = await confirmTotp(
    t.ctx,
    principal,
    totpCode(enrolment.secret, t.now()),
    client,
  );
  if (!confirmed.ok) throw confirmed.error;
  // Past the step the confirmation used.
  t.advance(30_000);
  return { userId: registered.user.id, principal, secret: enrolment.secret, ...confirmed };
}

describe('TOTP codes (RFC 6238)', () => {
  it.each(RFC_VECTORS)('at %i s the code is %s', (seconds, expected) => {
    expect(totpCode(RFC_SEED, seconds * 1000)).toBe(expected);
    expect(totpStep(RFC_SEED, expected, seconds * 1000)).toBe(Math.floor(seconds / 30));
  });

  it('accepts one step of drift either way and refuses two', () => {
    const at = 1111111109_000;
    const step = Math.floor(at / 30_000);
    for (const offset of [-1, 1]) {
      const code = totpCode(RFC_SEED, at + offset * 30_000);
      expect(totpStep(RFC_SEED, code, at)).toBe(step + offset);
    }
    for (const offset of [-2, 2]) {
      const code = totpCode(RFC_SEED, at + offset * 30_000);
      expect(totpStep(RFC_SEED, code, at)).toBeNull();
    }
  });

  it('refuses anything but six digits', () => {
    expect(totpStep(RFC_SEED, '28708', 59_000)).toBeNull();
    expect(totpStep(RFC_SEED, '2870822', 59_000)).toBeNull();
    expect(totpStep(RFC_SEED, 'abcdef', 59_000)).toBeNull();
  });
});

describe('TOTP as a second factor', () => {
  it('stores the seed encrypted and decides from the records', async () => {
    const t = setup();
    const { userId, secret } = await withTotp(t);
    const record = await t.store.records.getRecord(TOTP_KIND, userId, t.now());
    expect(record?.data).not.toContain(secret);
    expect(record?.data).toMatch(/"secret":"v1\./);
    expect(await hasSecondFactor(t.ctx, userId)).toBe(true);
    // The displayed list alone decides nothing.
    await t.store.users.updateUser(userId, { mfa: [] });
    expect(await hasSecondFactor(t.ctx, userId)).toBe(true);
    await t.store.records.deleteRecord(TOTP_KIND, userId);
    await t.store.users.updateUser(userId, { mfa: ['totp'] });
    expect(await hasSecondFactor(t.ctx, userId)).toBe(false);
  });

  it('accepts a code once: a replay in the same step is invalid_token', async () => {
    const t = setup();
    const { userId, secret } = await withTotp(t);
    const code = totpCode(secret, t.now());
    expect((await verifySecondFactor(t.ctx, userId, { code }, { client })).ok).toBe(true);
    const replay = await verifySecondFactor(t.ctx, userId, { code }, { client });
    expect(replay.ok ? null : replay.error.code).toBe('invalid_token');
    // A code for an earlier step than the last accepted one is refused as well.
    t.advance(30_000);
    const next = totpCode(secret, t.now());
    expect((await verifySecondFactor(t.ctx, userId, { code: next }, { client })).ok).toBe(true);
    const older = totpCode(secret, t.now() - 30_000);
    expect((await verifySecondFactor(t.ctx, userId, { code: older }, { client })).ok).toBe(false);
  });

  it('accepts a code from one step off, refuses two steps off', async () => {
    const t = setup();
    const { userId, secret } = await withTotp(t);
    t.advance(5 * 30_000);
    const verify = (code: string) => verifySecondFactor(t.ctx, userId, { code }, { client });
    expect((await verify(totpCode(secret, t.now() - 2 * 30_000))).ok).toBe(false);
    expect((await verify(totpCode(secret, t.now() + 2 * 30_000))).ok).toBe(false);
    expect((await verify(totpCode(secret, t.now() - 30_000))).ok).toBe(true);
    expect((await verify(totpCode(secret, t.now() + 30_000))).ok).toBe(true);
  });

  it('of concurrent uses of one code exactly one wins', async () => {
    const t = setup(50);
    const { userId, secret } = await withTotp(t);
    const code = totpCode(secret, t.now());
    const results = await Promise.all(
      Array.from({ length: 8 }, () => verifySecondFactor(t.ctx, userId, { code }, { client })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('counts wrong codes toward the account lockout', async () => {
    const t = setup(3);
    const { userId, secret } = await withTotp(t);
    for (let i = 0; i < 3; i++) {
      const wrong = await verifySecondFactor(t.ctx, userId, { code: '000000' }, { client });
      expect(wrong.ok ? null : wrong.error.code).toBe('invalid_token');
    }
    const good = totpCode(secret, t.now());
    const locked = await verifySecondFactor(t.ctx, userId, { code: good }, { client });
    expect(locked.ok ? null : locked.error.code).toBe('rate_limited');
    // The password is locked out too: it is the same account count.
    const password = await login(
      t.ctx,
      { email: 'ada@example.com', password: PASSWORD },
      { ...caller, device: null },
    );
    expect(password.ok ? null : password.error.code).toBe('rate_limited');
  });
});

describe('recovery codes', () => {
  it('are ten, stored only as hashes, and each works once', async () => {
    const t = setup();
    const { userId, recoveryCodes } = await withTotp(t);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    const stored = await t.store.records.listUserRecords(RECOVERY_CODE_KIND, userId, t.now());
    expect(stored).toHaveLength(10);
    const everything = JSON.stringify(stored);
    for (const code of recoveryCodes) {
      expect(everything).not.toContain(code);
      expect(everything).not.toContain(code.replace(/-/g, ''));
    }
    const [first] = recoveryCodes as [string];
    const use = (recoveryCode: string) =>
      verifySecondFactor(t.ctx, userId, { recoveryCode }, { client });
    // Typed in upper case with spaces, it is the same code.
    expect((await use(first.toUpperCase().replace(/-/g, ' '))).ok).toBe(true);
    const again = await use(first);
    expect(again.ok ? null : again.error.code).toBe('invalid_token');
    expect(await t.store.records.listUserRecords(RECOVERY_CODE_KIND, userId, t.now())).toHaveLength(
      9,
    );
  });

  it('of concurrent uses of one code exactly one wins', async () => {
    const t = setup(50);
    const { userId, recoveryCodes } = await withTotp(t);
    const recoveryCode = recoveryCodes[3] as string;
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        verifySecondFactor(t.ctx, userId, { recoveryCode }, { client }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('go with TOTP when it is removed', async () => {
    const t = setup();
    const { userId, principal, recoveryCodes } = await withTotp(t);
    expect((await disableTotp(t.ctx, principal)).ok).toBe(true);
    expect(await t.store.records.listUserRecords(RECOVERY_CODE_KIND, userId, t.now())).toEqual([]);
    const use = await verifySecondFactor(
      t.ctx,
      userId,
      { recoveryCode: recoveryCodes[0] as string },
      { client },
    );
    expect(use.ok).toBe(false);
    expect((await t.store.users.getUserById(userId))?.mfa).toEqual([]);
  });
});

describe('two-step sign-in', () => {
  it('gives a pending sign-in, not a session, and the code finishes it once', async () => {
    const t = setup();
    const { secret, userId } = await withTotp(t);
    const first = await login(
      t.ctx,
      { email: 'ada@example.com', password: PASSWORD },
      { ...caller, device: null },
    );
    if (!first.ok) throw first.error;
    expect(first.signIn).toBeNull();
    const pending = first.pending?.token ?? null;
    expect(pending).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const code = totpCode(secret, t.now());
    const done = await finishSignIn(t.ctx, pending, { code }, caller);
    if (!done.ok) throw done.error;
    expect(done.user.id).toBe(userId);
    expect(done.signIn.session.userId).toBe(userId);
    expect(t.events.some((e) => e.event === 'login_mfa')).toBe(true);
    // Single use, even with a fresh code.
    t.advance(30_000);
    const again = await finishSignIn(t.ctx, pending, { code: totpCode(secret, t.now()) }, caller);
    expect(again.ok ? null : again.error.code).toBe('unauthenticated');
  });

  it('the pending sign-in expires after 5 minutes', async () => {
    const t = setup();
    const { secret } = await withTotp(t);
    const first = await login(
      t.ctx,
      { email: 'ada@example.com', password: PASSWORD },
      { ...caller, device: null },
    );
    if (!first.ok) throw first.error;
    t.advance(5 * 60_000);
    const late = await finishSignIn(
      t.ctx,
      first.pending?.token ?? null,
      { code: totpCode(secret, t.now()) },
      caller,
    );
    expect(late.ok ? null : late.error.code).toBe('unauthenticated');
  });

  it('a correct password does not clear earlier failures (no reset between guessing rounds)', async () => {
    const t = setup(3);
    await withTotp(t);
    const password = () =>
      login(t.ctx, { email: 'ada@example.com', password: PASSWORD }, { ...caller, device: null });
    for (let round = 0; round < 3; round++) {
      const first = await password();
      if (!first.ok) throw first.error;
      const wrong = await finishSignIn(
        t.ctx,
        first.pending?.token ?? null,
        { code: '123456' },
        caller,
      );
      expect(wrong.ok ? null : wrong.error.code).toBe('invalid_token');
    }
    const locked = await password();
    expect(locked.ok ? null : locked.error.code).toBe('rate_limited');
  });
});

describe('step-up', () => {
  it('a fresh sign-in is recent; later it takes a proof, which lasts 5 minutes', async () => {
    const t = setup();
    const registered = await register(
      t.ctx,
      { email: 'bo@example.com', password: PASSWORD, name: null },
      caller,
    );
    if (!registered.ok) throw registered.error;
    const principal = { userId: registered.user.id, sessionId: registered.signIn.session.id };
    expect((await requireRecentAuth(t.ctx, principal)).ok).toBe(true);
    t.advance(RECENT_AUTH_MS);
    const stale = await requireRecentAuth(t.ctx, principal);
    expect(stale.ok ? null : stale.error.code).toBe('reauth_required');
    await markRecentlyAuthenticated(t.ctx, principal);
    t.advance(RECENT_AUTH_MS - 1);
    expect((await requireRecentAuth(t.ctx, principal)).ok).toBe(true);
    // Marking again moves the mark on.
    await markRecentlyAuthenticated(t.ctx, principal);
    t.advance(2);
    expect((await requireRecentAuth(t.ctx, principal)).ok).toBe(true);
    t.advance(RECENT_AUTH_MS);
    expect((await requireRecentAuth(t.ctx, principal)).ok).toBe(false);
    // Another session of the same user is not marked by this one's proof.
    await markRecentlyAuthenticated(t.ctx, principal);
    const other = { userId: principal.userId, sessionId: 'someone-elses' };
    expect((await requireRecentAuth(t.ctx, other)).ok).toBe(false);
  });

  it('adding TOTP needs it', async () => {
    const t = setup();
    const registered = await register(
      t.ctx,
      { email: 'cy@example.com', password: PASSWORD, name: null },
      caller,
    );
    if (!registered.ok) throw registered.error;
    const principal = {
      userId: registered.user.id,
      sessionId: registered.signIn.session.id,
      session: null,
    };
    t.advance(RECENT_AUTH_MS + 1);
    const refused = await beginTotp(t.ctx, principal);
    expect(refused.ok ? null : refused.error.code).toBe('reauth_required');
  });
});
