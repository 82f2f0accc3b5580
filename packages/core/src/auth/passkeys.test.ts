// The passkey operations on the memory store, against a software authenticator that
// builds real WebAuthn answers (ES256 keys, CBOR attestation, signed authenticator data),
// so what is checked is what a browser would send.
import { describe, expect, it } from 'vitest';
import { b64, SoftAuthenticator } from '../../test/soft-authenticator.js';
import { resolveConfig } from '../config.js';
import type { SecurityEvent } from '../log.js';
import { createMemoryStore } from '../stores/memory.js';
import { createAuthContext, type AuthContext, type Principal } from './context.js';
import {
  listPasskeys,
  passkeyLogin,
  passkeyLoginOptions,
  passkeyRegistrationOptions,
  passkeySettings,
  PASSKEY_KIND,
  reauthWithPasskey,
  registerPasskey,
  removePasskey,
  type PasskeySettings,
} from './passkeys.js';
import { startSignIn } from './sign-in.js';
import { RECENT_AUTH_MS } from './step-up.js';

const ORIGIN = 'http://localhost:3000';
const client = { ip: '192.0.2.7', userAgent: 'test' };
const soft = () => new SoftAuthenticator('localhost', ORIGIN);

function setup() {
  const store = createMemoryStore();
  let now = Date.parse('2026-01-01T00:00:00Z');
  const config = resolveConfig({
    store,
    secrets: ['s'.repeat(32)],
    publicUrl: ORIGIN,
    rateLimit: { loginLimit: 2, addressLimit: 4 },
    logger: () => undefined,
    now: () => now,
  });
  const events: SecurityEvent[] = [];
  const ctx: AuthContext = createAuthContext(config, store, (event) => events.push(event));
  const settings: PasskeySettings = passkeySettings(ctx, config);
  return {
    ctx,
    store,
    events,
    settings,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** A user (put in the store directly: no password policy or hashing needed here), signed in. */
async function signedUp(ctx: AuthContext, email = 'ada@example.com'): Promise<Principal> {
  const userId = crypto.randomUUID();
  await ctx.store.users.createUser({
    id: userId,
    email,
    name: 'Ada',
    passwordHash: 'unused',
    createdAt: ctx.now(),
    emailVerifiedAt: null,
    mfa: [],
  });
  const { session } = await startSignIn(ctx, { client, presented: null }, userId);
  return { userId, sessionId: session.id, session };
}

function ok<T>(result: ({ ok: true } & T) | { ok: false; error: Error }): T {
  if (!result.ok) throw result.error;
  return result;
}

async function withPasskey(t: ReturnType<typeof setup>, principal: Principal, name = 'Laptop') {
  const authenticator = soft();
  const { options } = ok(await passkeyRegistrationOptions(t.ctx, t.settings, principal));
  const answer = authenticator.create(options);
  const { passkey } = ok(
    await registerPasskey(t.ctx, t.settings, principal, { response: answer, name }),
  );
  return { authenticator, passkey };
}

async function loginWith(t: ReturnType<typeof setup>, authenticator: SoftAuthenticator) {
  const { options } = ok(await passkeyLoginOptions(t.ctx, t.settings, { client, presented: null }));
  const assertion = authenticator.get(options);
  return {
    assertion,
    result: await passkeyLogin(t.ctx, t.settings, assertion, { client, presented: null }),
  };
}

describe('passkey registration', () => {
  it('stores the credential, shows it, and adds passkey to the user’s factors', async () => {
    const t = setup();
    const principal = await signedUp(t.ctx);
    const { options } = ok(await passkeyRegistrationOptions(t.ctx, t.settings, principal));
    expect(options.rp.id).toBe('localhost');
    // 256 bits from the CSPRNG (ASVS 6.7.2 asks for at least 64).
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
    const authenticator = soft();
    const { passkey } = ok(
      await registerPasskey(t.ctx, t.settings, principal, {
        response: authenticator.create(options),
        name: 'Laptop',
      }),
    );
    expect(passkey).toMatchObject({ name: 'Laptop', lastUsedAt: null });
    expect(passkey.id).not.toBe(b64(authenticator.credentialId));
    expect(await listPasskeys(t.ctx, principal)).toEqual([passkey]);
    expect((await t.store.users.getUserById(principal.userId))?.mfa).toEqual(['passkey']);
    expect(t.events).toContainEqual(
      expect.objectContaining({ event: 'mfa_changed', factor: 'passkey', change: 'added' }),
    );

    // The next options exclude it, so the same authenticator is not registered twice.
    const next = ok(await passkeyRegistrationOptions(t.ctx, t.settings, principal));
    expect(next.options.excludeCredentials?.map((c) => c.id)).toEqual([
      b64(authenticator.credentialId),
    ]);
  });

  it('needs a recent proof of identity', async () => {
    const t = setup();
    const principal = await signedUp(t.ctx);
    t.advance(RECENT_AUTH_MS + 1000);
    const result = await passkeyRegistrationOptions(t.ctx, t.settings, {
      ...principal,
      session: null,
    });
    expect(result.ok || result.error.code).toBe('reauth_required');
  });

  it('refuses an authenticator that did not verify the user', async () => {
    const t = setup();
    const principal = await signedUp(t.ctx);
    const { options } = ok(await passkeyRegistrationOptions(t.ctx, t.settings, principal));
    const authenticator = soft();
    authenticator.userVerified = false;
    const result = await registerPasskey(t.ctx, t.settings, principal, {
      response: authenticator.create(options),
      name: null,
    });
    expect(result.ok || result.error.code).toBe('invalid_credentials');
    expect(await listPasskeys(t.ctx, principal)).toEqual([]);
  });

  it('uses a challenge once, and only in the session that asked for it', async () => {
    const t = setup();
    const principal = await signedUp(t.ctx);
    const other = { ...principal, sessionId: 'another-session-of-the-same-user' };
    const { options } = ok(await passkeyRegistrationOptions(t.ctx, t.settings, principal));
    const answer = soft().create(options);
    const stolen = await registerPasskey(t.ctx, t.settings, other, {
      response: answer,
      name: null,
    });
    expect(stolen.ok || stolen.error.code).toBe('invalid_credentials');
    // The failed attempt spent the challenge: the genuine answer is refused now too.
    const late = await registerPasskey(t.ctx, t.settings, principal, {
      response: answer,
      name: null,
    });
    expect(late.ok || late.error.code).toBe('invalid_credentials');

    const fresh = ok(await passkeyRegistrationOptions(t.ctx, t.settings, principal));
    const good = soft().create(fresh.options);
    ok(await registerPasskey(t.ctx, t.settings, principal, { response: good, name: null }));
    const again = await registerPasskey(t.ctx, t.settings, principal, {
      response: good,
      name: null,
    });
    expect(again.ok || again.error.code).toBe('invalid_credentials');
    expect(await listPasskeys(t.ctx, principal)).toHaveLength(1);
  });

  it('refuses an answer made for another origin', async () => {
    const t = setup();
    const principal = await signedUp(t.ctx);
    const { options } = ok(await passkeyRegistrationOptions(t.ctx, t.settings, principal));
    const answer = soft().create(options, 'http://localhost:4000');
    const result = await registerPasskey(t.ctx, t.settings, principal, {
      response: answer,
      name: null,
    });
    expect(result.ok || result.error.code).toBe('invalid_credentials');
  });
});

describe('passkey sign-in', () => {
  it('signs in without an email, records the use, and logs the method', async () => {
    const t = setup();
    const principal = await signedUp(t.ctx);
    const { authenticator, passkey } = await withPasskey(t, principal);
    authenticator.counter = 7;
    authenticator.synced = true;
    const { options } = ok(
      await passkeyLoginOptions(t.ctx, t.settings, { client, presented: null }),
    );
    expect(options.allowCredentials).toEqual([]);
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(options.userVerification).toBe('required');
    const { user, signIn } = ok(
      await passkeyLogin(t.ctx, t.settings, authenticator.get(options), {
        client,
        presented: null,
      }),
    );
    expect(user.id).toBe(principal.userId);
    expect(signIn.session.userId).toBe(principal.userId);
    expect(t.events).toContainEqual(
      expect.objectContaining({ event: 'login_succeeded', userId: user.id, method: 'passkey' }),
    );
    const [listed] = await listPasskeys(t.ctx, principal);
    expect(listed).toMatchObject({ id: passkey.id, lastUsedAt: expect.any(Number) });
    const stored = await t.store.records.getRecord(
      PASSKEY_KIND,
      b64(authenticator.credentialId),
      Date.now(),
    );
    expect(JSON.parse(stored?.data ?? '{}')).toMatchObject({
      counter: 7,
      backedUp: true,
      deviceType: 'multiDevice',
    });
  });

  it('refuses a replayed assertion: the challenge was used', async () => {
    const t = setup();
    const { authenticator } = await withPasskey(t, await signedUp(t.ctx));
    const { assertion, result } = await loginWith(t, authenticator);
    ok(result);
    const replay = await passkeyLogin(t.ctx, t.settings, assertion, { client, presented: null });
    expect(replay.ok || replay.error.code).toBe('invalid_credentials');
    expect(t.events.at(-1)).toMatchObject({ event: 'login_failed', method: 'passkey' });
  });

  it('refuses an expired challenge', async () => {
    const t = setup();
    const { authenticator } = await withPasskey(t, await signedUp(t.ctx));
    const { options } = ok(
      await passkeyLoginOptions(t.ctx, t.settings, { client, presented: null }),
    );
    t.advance(5 * 60_000 + 1);
    const result = await passkeyLogin(t.ctx, t.settings, authenticator.get(options), {
      client,
      presented: null,
    });
    expect(result.ok || result.error.code).toBe('invalid_credentials');
  });

  it('refuses a sign counter that went backwards, and accepts an authenticator without one', async () => {
    const t = setup();
    const { authenticator } = await withPasskey(t, await signedUp(t.ctx));
    // Counter 0 on every use (many synced passkeys): allowed, repeatedly.
    ok((await loginWith(t, authenticator)).result);
    ok((await loginWith(t, authenticator)).result);
    authenticator.counter = 10;
    ok((await loginWith(t, authenticator)).result);
    authenticator.counter = 9; // a clone, or a replay from before
    const cloned = (await loginWith(t, authenticator)).result;
    expect(cloned.ok || cloned.error.code).toBe('invalid_credentials');
    authenticator.counter = 10;
    const same = (await loginWith(t, authenticator)).result;
    expect(same.ok || same.error.code).toBe('invalid_credentials');
    authenticator.counter = 11;
    ok((await loginWith(t, authenticator)).result);
  });

  it('lets only one of two racing uses of the same counter value through (compare-and-set)', async () => {
    const t = setup();
    const { authenticator } = await withPasskey(t, await signedUp(t.ctx));
    authenticator.counter = 5;
    const options = await Promise.all([
      passkeyLoginOptions(t.ctx, t.settings, { client, presented: null }),
      passkeyLoginOptions(t.ctx, t.settings, { client, presented: null }),
    ]);
    const assertions = options.map((o) => authenticator.get(ok(o).options));
    const results = await Promise.all(
      assertions.map((a) => passkeyLogin(t.ctx, t.settings, a, { client, presented: null })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('refuses an assertion without user verification', async () => {
    const t = setup();
    const { authenticator } = await withPasskey(t, await signedUp(t.ctx));
    authenticator.userVerified = false;
    const { result } = await loginWith(t, authenticator);
    expect(result.ok || result.error.code).toBe('invalid_credentials');
  });

  it('refuses a removed passkey, and removing the last one clears the factor', async () => {
    const t = setup();
    const principal = await signedUp(t.ctx);
    const { authenticator, passkey } = await withPasskey(t, principal);
    ok(await removePasskey(t.ctx, principal, passkey.id));
    expect(await listPasskeys(t.ctx, principal)).toEqual([]);
    expect((await t.store.users.getUserById(principal.userId))?.mfa).toEqual([]);
    expect(t.events).toContainEqual(
      expect.objectContaining({ event: 'mfa_changed', factor: 'passkey', change: 'removed' }),
    );
    const { result } = await loginWith(t, authenticator);
    expect(result.ok || result.error.code).toBe('invalid_credentials');
  });

  it('removes only the caller’s own passkeys, after a recent proof of identity', async () => {
    const t = setup();
    const ada = await signedUp(t.ctx);
    const bob = await signedUp(t.ctx, 'bob@example.com');
    const { passkey } = await withPasskey(t, ada);
    const foreign = await removePasskey(t.ctx, bob, passkey.id);
    expect(foreign.ok || foreign.error.code).toBe('not_found');
    t.advance(RECENT_AUTH_MS + 1000);
    const stale = await removePasskey(t.ctx, { ...ada, session: null }, passkey.id);
    expect(stale.ok || stale.error.code).toBe('reauth_required');
    expect(await listPasskeys(t.ctx, ada)).toHaveLength(1);
  });

  it('counts failures per client address', async () => {
    const t = setup();
    const { authenticator } = await withPasskey(t, await signedUp(t.ctx));
    authenticator.userVerified = false;
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { result } = await loginWith(t, authenticator);
      codes.push(result.ok ? 'ok' : result.error.code);
    }
    // addressLimit 4: the fifth attempt is refused before it is looked at.
    expect(codes).toEqual([
      'invalid_credentials',
      'invalid_credentials',
      'invalid_credentials',
      'invalid_credentials',
      'rate_limited',
    ]);
  });
});

describe('passkey step-up', () => {
  it('marks the session recent with the user’s own passkey, not another user’s', async () => {
    const t = setup();
    const ada = await signedUp(t.ctx);
    const bob = await signedUp(t.ctx, 'bob@example.com');
    const { authenticator: adas } = await withPasskey(t, ada);
    t.advance(RECENT_AUTH_MS + 1000);
    const stale = { ...ada, session: null };
    const options = async () =>
      ok(await passkeyLoginOptions(t.ctx, t.settings, { client, presented: null })).options;

    const wrongUser = await reauthWithPasskey(
      t.ctx,
      t.settings,
      { ...bob, session: null },
      adas.get(await options()),
      { client, presented: null },
    );
    expect(wrongUser.ok || wrongUser.error.code).toBe('invalid_credentials');
    const before = await passkeyRegistrationOptions(t.ctx, t.settings, stale);
    expect(before.ok || before.error.code).toBe('reauth_required');

    ok(
      await reauthWithPasskey(t.ctx, t.settings, stale, adas.get(await options()), {
        client,
        presented: null,
      }),
    );
    ok(await passkeyRegistrationOptions(t.ctx, t.settings, stale));
  });
});
