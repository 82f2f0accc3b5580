import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  account,
  admitted,
  expectOneLineError,
  latchkey,
  openApp,
  SECRET,
  sessionIdOf,
  withApp,
  type Device,
} from './helpers.js';

// The operator commands against the default deployment: SQLite in the data dir. The
// accounts are made through a real Latchkey on the same file; SQLite lets one process
// hold it, so the test closes its store while the CLI runs (as an operator stops the
// server), then opens it again to see what the server would answer.

describe('latchkey on SQLite (session mode)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let ada: Device[];
  let bob: Device[];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-cli-sqlite-'));
    env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_SECRET: SECRET };
    await withApp(env, async (app) => {
      ada = await account(app, 'ada@example.com', 3);
      bob = await account(app, 'bob@example.com', 1);
    });
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('sessions list: a table of the account’s sessions; --json without any secret', async () => {
    const run = await latchkey(['sessions', 'list', '--email', 'Ada@Example.com'], env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const [title, header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(title).toMatch(/^ada@example\.com \(user [0-9a-f-]{36}\): 3 active sessions$/);
    expect(header).toMatch(/^ID\s+CREATED\s+LAST SEEN\s+EXPIRES\s+IP\s+USER AGENT$/);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(ada.map(sessionIdOf));
    expect(rows[0]).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+.*cli-test$/);

    const json = await latchkey(['sessions', 'list', '--email', 'ada@example.com', '--json'], env);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body).toEqual({
      user: {
        id: expect.any(String),
        email: 'ada@example.com',
        name: 'Ada',
        createdAt: expect.any(String),
        emailVerified: false,
        mfa: [],
      },
      sessions: ada.map((d) => ({
        id: sessionIdOf(d),
        createdAt: expect.any(String),
        lastSeenAt: expect.any(String),
        idleExpiresAt: expect.any(String),
        expiresAt: expect.any(String),
        userAgent: 'cli-test',
        ip: null,
      })),
    });
    for (const device of ada) {
      const secret = device.cookie.split('.')[1] ?? '';
      expect(json.stdout).not.toContain(secret);
    }
  });

  it('an unknown email: exit 1, one line, nothing changed', async () => {
    for (const args of [
      ['sessions', 'list', '--email', 'nobody@example.com'],
      ['sessions', 'revoke', '--email', 'nobody@example.com', '--all', '--json'],
      ['users', 'delete', '--email', 'nobody@example.com', '--yes'],
    ]) {
      expectOneLineError(
        await latchkey(args, env),
        1,
        /^latchkey: nobody@example\.com: No account has this email\.$/,
      );
    }
  });

  it('sessions revoke --id: that session is refused, the others are not', async () => {
    const [first, second] = ada as [Device, Device];
    const run = await latchkey(
      ['sessions', 'revoke', '--email', 'ada@example.com', '--id', sessionIdOf(first)],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`Revoked session ${sessionIdOf(first)} of ada@example.com.\n`);
    // The operator's action is in the audit trail (stderr), without the email.
    expect(run.events).toEqual([
      expect.objectContaining({
        event: 'session_revoked',
        sessionId: sessionIdOf(first),
        by: 'operator',
      }),
    ]);
    expect(run.messages).toEqual([]);
    expect(run.stderr).not.toContain('ada@example.com');

    await withApp(env, async (app) => {
      expect(await admitted(app, first)).toBe(false);
      expect(await admitted(app, second)).toBe(true);
    });

    // Bob's session is not Ada's to revoke, and a revoked one is gone.
    for (const id of [sessionIdOf(bob[0] as Device), sessionIdOf(first)]) {
      expectOneLineError(
        await latchkey(['sessions', 'revoke', '--email', 'ada@example.com', '--id', id], env),
        1,
        new RegExp(`^latchkey: ada@example\\.com, session ${id}: This account has no session`),
      );
    }
  });

  it('sessions revoke --all --json: every session of the account is refused; bob’s is not', async () => {
    const run = await latchkey(
      ['sessions', 'revoke', '--email', 'ada@example.com', '--all', '--json'],
      env,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      user: expect.objectContaining({ email: 'ada@example.com' }),
      revoked: 2,
    });
    expect(run.events).toEqual([
      expect.objectContaining({ event: 'sessions_revoked', count: 2, by: 'operator' }),
    ]);
    await withApp(env, async (app) => {
      for (const device of ada) expect(await admitted(app, device)).toBe(false);
      expect(await admitted(app, bob[0] as Device)).toBe(true);
    });
    const again = await latchkey(
      ['sessions', 'revoke', '--email', 'ada@example.com', '--all'],
      env,
    );
    expect(again.stdout).toBe('Revoked 0 sessions of ada@example.com.\n');
  });

  it('users delete: a script must say --yes; then the account and its sessions are gone', async () => {
    expectOneLineError(
      await latchkey(['users', 'delete', '--email', 'bob@example.com'], env),
      2,
      /users delete: add --yes to delete bob@example\.com without a prompt/,
    );

    const run = await latchkey(['users', 'delete', '--email', 'bob@example.com', '--yes'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^Deleted the account bob@example\.com \(user [0-9a-f-]{36}\) and revoked 1 session\.\n$/,
    );
    expect(run.events).toEqual([
      expect.objectContaining({ event: 'account_deleted', sessions: 1, by: 'operator' }),
    ]);
    await withApp(env, async (app) => {
      expect(await admitted(app, bob[0] as Device)).toBe(false);
      expect(await app.latchkey.admin.findUser('bob@example.com')).toMatchObject({ ok: false });
      // The email is free for a new account.
      bob = await account(app, 'bob@example.com');
    });

    const json = await latchkey(
      ['users', 'delete', '--email', 'bob@example.com', '--yes', '--json'],
      env,
    );
    expect(JSON.parse(json.stdout)).toEqual({
      user: expect.objectContaining({ email: 'bob@example.com' }),
      deleted: true,
      sessionsRevoked: 1,
    });
  });

  it('a running server holds the file: exit 3, one line saying to stop it', async () => {
    const server = await openApp(env);
    try {
      const run = await latchkey(['sessions', 'list', '--email', 'ada@example.com'], env);
      expectOneLineError(run, 3, /held by a running server.*stop the server/);
    } finally {
      await server.close();
    }
  });
});

describe('latchkey on SQLite (token mode)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-cli-token-'));
    env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_MODE: 'token' };
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('refresh families are listed and revoked: the access token and refresh die with them', async () => {
    // No LATCHKEY_SECRET: the development secret and keys in the data dir, as `npm start`.
    const devices = await withApp(env, (app) => account(app, 'ada@example.com', 2));
    const listed = await latchkey(
      ['sessions', 'list', '--email', 'ada@example.com', '--json'],
      env,
    );
    expect(JSON.parse(listed.stdout).sessions.map((s: { id: string }) => s.id)).toEqual(
      devices.map(sessionIdOf),
    );

    const run = await latchkey(['sessions', 'revoke', '--email', 'ada@example.com', '--all'], env);
    expect(run.stdout).toBe('Revoked 2 sessions of ada@example.com.\n');
    await withApp(env, async (app) => {
      for (const device of devices) {
        expect(await admitted(app, device)).toBe(false);
        const refresh = await app.latchkey.handle(
          new Request('http://localhost:3000/auth/refresh', {
            method: 'POST',
            headers: { origin: 'http://localhost:3000', cookie: device.cookie },
          }),
        );
        expect(refresh.status).toBe(401);
      }
    });
  });
});
