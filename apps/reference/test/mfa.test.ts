import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningJwk } from '@latchkey/core';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  Agent,
  GOOD_PASSWORD,
  registered,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from './harness.js';
import { nextCode } from './totp.js';

// TOTP, the two-step sign-in and account deletion through the real reference server:
// real HTTP, the SQLite file, and two servers sharing Redis + PostgreSQL.

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Session mode: an unsafe request with the anti-forgery token; token mode: with the bearer. */
function caller(agent: Agent, mode: 'session' | 'token') {
  let bearer: string | null = null;
  return {
    set bearer(token: string | null) {
      bearer = token;
    },
    send(method: string, path: string, json?: unknown) {
      if (mode === 'session' && method !== 'GET') return agent.unsafe(method, path, json);
      return agent.request(method, path, {
        ...(json === undefined ? {} : { json }),
        ...(bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {}),
      });
    },
  };
}

describe.each(['session', 'token'] as const)('%s mode on SQLite', (mode) => {
  it('enrol, confirm, sign out, password → mfaRequired, code → session; delete the account and its notes', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-mfa-'));
    const env = mode === 'token' ? { LATCHKEY_MODE: 'token' } : {};
    // The server holds the SQLite file exclusively: it is read between runs.
    const sql = (text: string, ...args: string[]): unknown => {
      const file = new Database(join(dataDir, 'latchkey.sqlite'), { readonly: true });
      try {
        return file.prepare(text).all(...args);
      } finally {
        file.close();
      }
    };
    try {
      let server = await startTestServer(env, { dataDir });
      const agent = new Agent(server.url);
      const email = uniqueEmail('mfa');
      const signup = await agent.request('POST', '/auth/register', {
        json: { email, password: GOOD_PASSWORD },
      });
      expect(signup.status).toBe(201);
      const me = caller(agent, mode);
      me.bearer = signup.json.accessToken ?? null;
      const userId = signup.json.user.id as string;

      const enrol = await me.send('POST', '/auth/mfa/totp');
      expect(enrol.status).toBe(200);
      const secret = enrol.json.secret as string;
      const used = new Set<string>();
      const confirm = await me.send('POST', '/auth/mfa/totp/confirm', {
        code: nextCode(secret, used),
      });
      expect(confirm.status).toBe(200);
      const recoveryCodes = confirm.json.recoveryCodes as string[];
      expect(recoveryCodes).toHaveLength(10);
      expect((await me.send('POST', '/api/notes', { text: 'mine' })).status).toBe(201);
      const events = [...server.events];
      await server.dispose();

      // What the file holds: the seed sealed, the recovery codes only as hashes.
      const records = sql('SELECT * FROM latchkey_records WHERE user_id = ?', userId) as {
        kind: string;
      }[];
      const kinds = records.map((r) => r.kind).filter((k) => /totp|recovery/.test(k));
      expect(kinds.sort()).toEqual([...Array<string>(10).fill('recovery-code'), 'totp']);
      const dump = JSON.stringify(records);
      expect(dump).not.toContain(secret);
      for (const code of recoveryCodes) expect(dump).not.toContain(code.replace(/-/g, ''));

      // Restarted on the same file: TOTP is still on.
      server = await startTestServer(env, { dataDir });
      const browser = new Agent(server.url);
      const first = await browser.request('POST', '/auth/login', {
        json: { email, password: GOOD_PASSWORD },
      });
      expect(first.status).toBe(200);
      expect(first.json).toEqual({ mfaRequired: true, methods: ['totp', 'recovery_code'] });
      expect([...browser.cookies.keys()]).toEqual(['__Host-Http-mfa']);
      expect((await browser.request('GET', '/auth/session')).status).toBe(401);
      expect((await browser.request('GET', '/api/notes')).status).toBe(401);

      const wrong = await browser.request('POST', '/auth/login/mfa', { json: { code: '000000' } });
      expect(wrong.status).toBe(400);
      expect(wrong.json.error.code).toBe('invalid_token');
      const second = await browser.request('POST', '/auth/login/mfa', {
        json: { code: nextCode(secret, used) },
      });
      expect(second.status).toBe(200);
      expect(second.json.user).toMatchObject({ id: userId, mfa: ['totp'] });
      expect(browser.cookies.has('__Host-Http-mfa')).toBe(false);
      const again = caller(browser, mode);
      again.bearer = second.json.accessToken ?? null;
      expect((await again.send('GET', '/api/notes')).json.notes).toHaveLength(1);

      // A recovery code, once.
      const third = new Agent(server.url);
      await third.request('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      const recovered = await third.request('POST', '/auth/login/mfa', {
        json: { recoveryCode: recoveryCodes[0] },
      });
      expect(recovered.status).toBe(200);
      const fourth = new Agent(server.url);
      await fourth.request('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
      const spent = await fourth.request('POST', '/auth/login/mfa', {
        json: { recoveryCode: recoveryCodes[0] },
      });
      expect(spent.status).toBe(400);

      // Freshly signed in: recent enough to delete.
      const gone = await again.send('DELETE', '/auth/account');
      expect(gone.status).toBe(204);
      expect(gone.headers.get('clear-site-data')).toBe('"storage"');
      expect((await again.send('GET', '/api/notes')).status).toBe(401);
      const recoveredSession = caller(third, mode);
      recoveredSession.bearer = recovered.json.accessToken ?? null;
      expect((await recoveredSession.send('GET', '/api/notes')).status).toBe(401);
      events.push(...server.events);
      await server.dispose();

      expect(sql('SELECT count(*) AS n FROM notes WHERE user_id = ?', userId)).toEqual([{ n: 0 }]);
      expect(sql('SELECT count(*) AS n FROM latchkey_records WHERE user_id = ?', userId)).toEqual([
        { n: 0 },
      ]);
      expect(sql('SELECT count(*) AS n FROM latchkey_users WHERE id = ?', userId)).toEqual([
        { n: 0 },
      ]);
      expect(events.map((e) => e.event)).toEqual(
        expect.arrayContaining(['mfa_changed', 'login_mfa', 'mfa_failed', 'account_deleted']),
      );
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('two servers sharing Redis + PostgreSQL', () => {
  it.each(['session', 'token'] as const)(
    '%s mode: deleting the account on A ends its session on B at once, and its notes go',
    async (mode) => {
      const tag = randomBytes(4).toString('hex');
      const schema = `mfa_${tag}`;
      const prefix = `mfa-${tag}:`;
      const env: Record<string, string> = {
        LATCHKEY_REDIS_URL: REDIS_URL,
        DATABASE_URL,
        LATCHKEY_DATABASE_SCHEMA: schema,
        LATCHKEY_REDIS_PREFIX: prefix,
        LATCHKEY_NEAR_CACHE: '30s',
      };
      if (mode === 'token') {
        env.LATCHKEY_MODE = 'token';
        env.LATCHKEY_PUBLIC_URL = 'https://app.example.test';
        env.LATCHKEY_SIGNING_KEYS = JSON.stringify({ keys: [await generateSigningJwk('EdDSA')] });
      }
      let a: TestServer | undefined;
      let b: TestServer | undefined;
      try {
        a = await startTestServer(env);
        b = await startTestServer(env);
        const { agent, user } = await registered(a.url, null);
        const token =
          mode === 'token'
            ? ((await agent.request('POST', '/auth/refresh')).json.accessToken as string)
            : null;
        const onA = caller(agent, mode);
        onA.bearer = token;
        expect((await onA.send('POST', '/api/notes', { text: 'on A' })).status).toBe(201);
        const onB = new Agent(b.url);
        for (const [k, v] of agent.cookies) onB.cookies.set(k, v);
        const fromB = caller(onB, mode);
        fromB.bearer = token;
        // Twice: the second answer comes from B's near-cache.
        expect((await fromB.send('GET', '/api/notes')).status).toBe(200);
        expect((await fromB.send('GET', '/api/notes')).status).toBe(200);

        expect((await onA.send('DELETE', '/auth/account')).status).toBe(204);
        // The eviction travels over Redis pub/sub: B refuses as soon as it has arrived.
        await expect
          .poll(async () => (await fromB.send('GET', '/api/notes')).status, {
            timeout: 1000,
            interval: 1,
          })
          .toBe(401);
        expect((await fromB.send('GET', '/auth/session')).status).toBe(401);
        const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
        try {
          const notes = await pool.query(
            `SELECT count(*)::int AS n FROM "${schema}".notes WHERE user_id = $1`,
            [user.id],
          );
          expect(notes.rows[0]).toEqual({ n: 0 });
          const users = await pool.query(
            `SELECT count(*)::int AS n FROM "${schema}".latchkey_users WHERE id = $1`,
            [user.id],
          );
          expect(users.rows[0]).toEqual({ n: 0 });
        } finally {
          await pool.end();
        }
      } finally {
        await Promise.all([a?.dispose(), b?.dispose()]);
        const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => pool.end());
        const redis = new Redis(REDIS_URL);
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
    },
  );
});
