import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import { LatchkeyError } from '../errors.js';
import { createLatchkey } from '../latchkey.js';
import type { SecurityEvent } from '../log.js';
import { createMemoryStore } from '../stores/memory.js';
import type { LatchkeyStore } from '../stores/types.js';
import { SESSION_COOKIE } from '../wire.js';
import { adminOperations } from './admin.js';
import { createAuthContext, type AuthContext } from './context.js';
import { register } from './register.js';
import { startSignIn } from './sign-in.js';

// The operator's operations on the memory store: by email, never by a caller's
// session; every change logged with `by: 'operator'` and no email in the event.

const PASSWORD = 'correct horse battery staple';
const client = { ip: '192.0.2.7', userAgent: 'test' };

function setup() {
  const store = createMemoryStore();
  const config = resolveConfig({
    store,
    secrets: ['s'.repeat(32)],
    publicUrl: 'http://localhost:3000',
    logger: () => undefined,
  });
  const events: SecurityEvent[] = [];
  const ctx = createAuthContext(config, store, (event) => events.push(event));
  return { ctx, store, events, admin: adminOperations(ctx) };
}

/** An account with `devices` sessions (the first from registering). */
async function account(ctx: AuthContext, email: string, devices = 1) {
  const result = await register(
    ctx,
    { email, password: PASSWORD, name: 'Ada' },
    { client, presented: null },
  );
  if (!result.ok) throw result.error;
  const sessions = [result.signIn.session.id];
  for (let i = 1; i < devices; i++) {
    sessions.push((await startSignIn(ctx, { client, presented: null }, result.user.id)).session.id);
  }
  return { user: result.user, sessions };
}

const noEmailIn = (events: SecurityEvent[]) =>
  expect(JSON.stringify(events)).not.toMatch(/@example\.com/);

describe('admin operations', () => {
  it('find and list by email, normalised like sign-in; a session shows no secret hash', async () => {
    const { ctx, admin } = setup();
    const { user, sessions } = await account(ctx, 'ada@example.com', 2);

    const found = await admin.findUser('  Ada@Example.COM ');
    expect(found).toEqual({ ok: true, user: expect.objectContaining({ id: user.id }) });

    const listed = await admin.listSessions('ada@example.com');
    if (!listed.ok) throw listed.error;
    expect(listed.user).toEqual({
      id: user.id,
      email: 'ada@example.com',
      name: 'Ada',
      createdAt: new Date(user.createdAt).toISOString(),
      emailVerified: false,
      mfa: [],
    });
    expect(listed.sessions.map((s) => s.id)).toEqual(sessions);
    expect(Object.keys(listed.sessions[0] ?? {}).sort()).toEqual([
      'createdAt',
      'expiresAt',
      'id',
      'idleExpiresAt',
      'ip',
      'lastSeenAt',
      'userAgent',
    ]);
    expect(listed.sessions[0]).toMatchObject({ ip: client.ip, userAgent: client.userAgent });
  });

  it('an unknown email is not_found for every operation, and nothing is logged', async () => {
    const { ctx, admin, events } = setup();
    await account(ctx, 'ada@example.com');
    events.length = 0;
    for (const result of [
      await admin.findUser('nobody@example.com'),
      await admin.listSessions('nobody@example.com'),
      await admin.revokeSession('nobody@example.com', 'x'),
      await admin.revokeSessions('nobody@example.com'),
      await admin.deleteUser('nobody@example.com'),
    ]) {
      expect(result).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
    expect(events).toEqual([]);
  });

  it('revokes one session of that account only: another account’s id is not_found', async () => {
    const { ctx, admin, store, events } = setup();
    const ada = await account(ctx, 'ada@example.com', 2);
    const bob = await account(ctx, 'bob@example.com');
    events.length = 0;

    const [first, second] = ada.sessions as [string, string];
    expect(await admin.revokeSession('ada@example.com', first)).toMatchObject({
      ok: true,
      sessionId: first,
    });
    expect(await store.sessions.getSession(first)).toBeNull();
    expect(await store.sessions.getSession(second)).not.toBeNull();

    const bobs = bob.sessions[0] as string;
    expect(await admin.revokeSession('ada@example.com', bobs)).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: 'This account has no session with this id.' },
    });
    expect(await admin.revokeSession('ada@example.com', first)).toMatchObject({ ok: false });
    expect(await store.sessions.getSession(bobs)).not.toBeNull();

    expect(events).toEqual([
      { event: 'session_revoked', userId: ada.user.id, sessionId: first, by: 'operator' },
    ]);
  });

  it('revokes every session of the account and counts them', async () => {
    const { ctx, admin, store, events } = setup();
    const ada = await account(ctx, 'ada@example.com', 3);
    const bob = await account(ctx, 'bob@example.com');
    events.length = 0;

    expect(await admin.revokeSessions('ada@example.com')).toMatchObject({ ok: true, revoked: 3 });
    expect(await store.sessions.listUserSessions(ada.user.id, Date.now())).toEqual([]);
    expect(await store.sessions.listUserSessions(bob.user.id, Date.now())).toHaveLength(1);
    expect(await admin.revokeSessions('ada@example.com')).toMatchObject({ ok: true, revoked: 0 });
    expect(events[0]).toEqual({
      event: 'sessions_revoked',
      userId: ada.user.id,
      count: 3,
      by: 'operator',
    });
    noEmailIn(events);
  });

  it('deletes the account with its sessions; the email is free again', async () => {
    const { ctx, admin, store, events } = setup();
    const ada = await account(ctx, 'ada@example.com', 2);
    events.length = 0;

    expect(await admin.deleteUser('ada@example.com')).toMatchObject({
      ok: true,
      user: { id: ada.user.id },
      sessionsRevoked: 2,
    });
    expect(await store.users.getUserById(ada.user.id)).toBeNull();
    for (const id of ada.sessions) expect(await store.sessions.getSession(id)).toBeNull();
    expect(events).toEqual([
      { event: 'account_deleted', userId: ada.user.id, sessions: 2, by: 'operator' },
    ]);
    noEmailIn(events);
    expect(await admin.findUser('ada@example.com')).toMatchObject({ ok: false });
    const again = await account(ctx, 'ada@example.com');
    expect(again.user.id).not.toBe(ada.user.id);
  });
});

describe('latchkey.admin', () => {
  const ORIGIN = 'http://localhost:3000';

  async function signedUp(latchkey: ReturnType<typeof createLatchkey>) {
    const response = await latchkey.handle(
      new Request(`${ORIGIN}/auth/register`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ada@example.com', password: PASSWORD, name: 'Ada' }),
      }),
    );
    expect(response.status).toBe(201);
    const cookie = response.headers
      .getSetCookie()
      .find((line) => line.startsWith(`${SESSION_COOKIE}=`))
      ?.split(';')[0];
    if (!cookie) throw new Error('no session cookie');
    return new Request(`${ORIGIN}/api/me`, { headers: { cookie } });
  }

  it('a revoked session is refused by the next request', async () => {
    const events: SecurityEvent[] = [];
    const latchkey = createLatchkey({
      store: createMemoryStore(),
      secrets: ['s'.repeat(32)],
      publicUrl: ORIGIN,
      logger: (event) => events.push(event),
    });
    const me = await signedUp(latchkey);
    expect((await latchkey.authenticate(me)).ok).toBe(true);

    expect(await latchkey.admin.revokeSessions('ada@example.com')).toMatchObject({
      ok: true,
      revoked: 1,
    });
    expect(await latchkey.authenticate(me)).toMatchObject({
      ok: false,
      error: { code: 'unauthenticated' },
    });
    expect(events).toContainEqual(expect.objectContaining({ event: 'sessions_revoked' }));
  });

  it('fails closed: a store fault rejects as store_unavailable', async () => {
    const inner = createMemoryStore();
    const store: LatchkeyStore = {
      ...inner,
      users: {
        ...inner.users,
        getUserByEmail: () => Promise.reject(new Error('ECONNREFUSED')),
      },
    };
    const latchkey = createLatchkey({
      store,
      secrets: ['s'.repeat(32)],
      publicUrl: ORIGIN,
      logger: () => undefined,
    });
    const refused = await latchkey.admin.deleteUser('ada@example.com').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LatchkeyError);
    expect(refused).toMatchObject({ code: 'store_unavailable' });
  });
});
