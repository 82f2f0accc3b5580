import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import type { SecurityEvent } from '../log.js';
import type { PasswordHasher } from '../password.js';
import { createMemoryStore } from '../stores/memory.js';
import { createAuthContext, type AuthContext } from './context.js';
import { login } from './login.js';
import { register } from './register.js';
import { startSignIn } from './sign-in.js';

// The operations without HTTP: values in, results out, on the memory store. These
// pin the rules that live here — fixation, limits, lockout, timing — so a CLI or a
// new transport inherits them.

const PASSWORD = 'correct horse battery staple';
const client = { ip: '192.0.2.7', userAgent: 'test' };

function setup(options: { loginLimit?: number; registerLimit?: number } = {}) {
  const store = createMemoryStore();
  const config = resolveConfig({
    store,
    secrets: ['s'.repeat(32)],
    publicUrl: 'http://localhost:3000',
    rateLimit: { loginLimit: options.loginLimit ?? 3, registerLimit: options.registerLimit ?? 100 },
    logger: () => undefined,
  });
  const events: SecurityEvent[] = [];
  const base = createAuthContext(config, store, (event) => events.push(event));
  // Counts the argon2id calls, to see that every path spends the same hashing work.
  const calls: string[] = [];
  const passwords: PasswordHasher = {
    hash: (p, priority) => (calls.push(`hash:${priority}`), base.passwords.hash(p, priority)),
    verify: (h, p, priority) => (
      calls.push(`verify:${priority}`),
      base.passwords.verify(h, p, priority)
    ),
    verifyAgainstDummy: (p, priority) => (
      calls.push(`dummy:${priority}`),
      base.passwords.verifyAgainstDummy(p, priority)
    ),
    get waiting() {
      return base.passwords.waiting;
    },
    stats: base.passwords.stats,
  };
  const ctx: AuthContext = { ...base, passwords };
  return { ctx, store, events, calls };
}

async function account(ctx: AuthContext, email = 'ada@example.com') {
  const result = await register(
    ctx,
    { email, password: PASSWORD, name: 'Ada' },
    { client, presented: null },
  );
  if (!result.ok) throw result.error;
  return result;
}

describe('login (operation)', () => {
  it('an unknown email and a wrong password cost the same hashing work and give the same error', async () => {
    const { ctx, calls } = setup();
    await account(ctx);
    calls.length = 0;
    const wrong = await login(
      ctx,
      { email: 'ada@example.com', password: 'wrong guess here' },
      { client, presented: null, device: null },
    );
    const unknown = await login(
      ctx,
      { email: 'nobody@example.com', password: 'wrong guess here' },
      { client, presented: null, device: null },
    );
    expect(calls).toEqual(['verify:login', 'dummy:login']);
    expect(wrong).toEqual(unknown);
    expect(wrong).toMatchObject({ ok: false, error: { code: 'invalid_credentials' } });
  });

  it('strangers are limited per account; the owner’s device cookie is not', async () => {
    const { ctx, events } = setup({ loginLimit: 2 });
    const { signIn } = await account(ctx);
    const stranger = { client: { ...client, ip: '198.51.100.1' }, presented: null, device: null };
    for (let i = 0; i < 2; i++) {
      expect(
        await login(ctx, { email: 'ada@example.com', password: `guess ${i}` }, stranger),
      ).toMatchObject({ ok: false, error: { code: 'invalid_credentials' } });
    }
    const locked = await login(ctx, { email: 'ada@example.com', password: PASSWORD }, stranger);
    expect(locked).toMatchObject({ ok: false, error: { code: 'rate_limited', status: 429 } });
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'login_locked', scope: 'account' }),
    );

    const owner = await login(
      ctx,
      { email: 'ada@example.com', password: PASSWORD },
      { client, presented: null, device: signIn.device },
    );
    expect(owner.ok).toBe(true);
  });

  it('a known device is judged on its own failures, and goes first in the hashing line', async () => {
    const { ctx, calls } = setup({ loginLimit: 2 });
    const { signIn } = await account(ctx);
    const device = { client, presented: null, device: signIn.device };
    calls.length = 0;
    for (let i = 0; i < 2; i++)
      await login(ctx, { email: 'ada@example.com', password: `typo ${i}` }, device);
    expect(calls).toEqual(['verify:known_device', 'verify:known_device']);
    expect(
      await login(ctx, { email: 'ada@example.com', password: PASSWORD }, device),
    ).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    // Its failures did not touch the account's count.
    const stranger = { client: { ...client, ip: '198.51.100.2' }, presented: null, device: null };
    expect((await login(ctx, { email: 'ada@example.com', password: PASSWORD }, stranger)).ok).toBe(
      true,
    );
  });
});

describe('sign-in (operation)', () => {
  it('never promotes the presented session: a fresh id, and the old one is deleted (fixation)', async () => {
    const { ctx, store } = setup();
    const first = await account(ctx);
    const second = await startSignIn(
      ctx,
      { client, presented: first.signIn.credential },
      first.user.id,
    );
    expect(second.session.id).not.toBe(first.signIn.session.id);
    expect(await store.sessions.getSession(first.signIn.session.id)).toBeNull();
    expect(second.device).not.toBe(first.signIn.device);
  });
});

describe('register (operation)', () => {
  it('counts every attempt against the address, a taken email too', async () => {
    const { ctx, events } = setup({ registerLimit: 2 });
    await account(ctx, 'one@example.com');
    expect(
      await register(
        ctx,
        { email: 'one@example.com', password: PASSWORD, name: null },
        { client, presented: null },
      ),
    ).toMatchObject({ ok: false, error: { code: 'email_taken' } });
    expect(
      await register(
        ctx,
        { email: 'two@example.com', password: PASSWORD, name: null },
        { client, presented: null },
      ),
    ).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'register_limited', ip: client.ip }),
    );
  });

  it('refuses a weak password before spending a hash', async () => {
    const { ctx, calls } = setup();
    const weak = await register(
      ctx,
      { email: 'ada@example.com', password: 'aaaaaaaaaaaaaaa', name: null },
      { client, presented: null },
    );
    expect(weak).toMatchObject({ ok: false, error: { code: 'weak_password' } });
    expect(calls).toEqual([]);
  });
});
