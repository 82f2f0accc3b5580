import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnv } from '@latchkey/cli/config';
import { AUDIT_EVENTS, createJsonLineLogger } from '@latchkey/core';
import { describe, expect, it } from 'vitest';
import { startReferenceServer, type RunningServer } from '../src/server.js';
import { Agent, freePort, GOOD_PASSWORD, TEST_SECRET, uniqueEmail, type Reply } from './harness.js';

const SESSION = '__Host-Http-session';
const WRONG_PASSWORD = 'wrong horse battery staple nope';
const NEW_PASSWORD = 'a brand new passphrase for ada';

/** API.md *Operations*: `{ time, level, event, outcome, userId?, sessionId?, ip, userAgent? }`. */
function schemaProblems(line: string): string[] {
  const problems: string[] = [];
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return [`not JSON: ${line}`];
  }
  const allowed = ['time', 'level', 'event', 'outcome', 'userId', 'sessionId', 'ip', 'userAgent'];
  for (const key of Object.keys(entry)) if (!allowed.includes(key)) problems.push(`extra ${key}`);
  if (typeof entry.time !== 'string' || Number.isNaN(Date.parse(entry.time))) problems.push('time');
  if (entry.time !== new Date(Date.parse(entry.time as string)).toISOString())
    problems.push('time not ISO');
  if (!['info', 'warn'].includes(entry.level as string)) problems.push('level');
  if (!(AUDIT_EVENTS as readonly unknown[]).includes(entry.event)) problems.push('event');
  if (!['success', 'failure', 'blocked'].includes(entry.outcome as string))
    problems.push('outcome');
  if (!('ip' in entry) || (entry.ip !== null && typeof entry.ip !== 'string')) problems.push('ip');
  for (const key of ['userId', 'sessionId', 'userAgent']) {
    if (key in entry && typeof entry[key] !== 'string') problems.push(key);
  }
  return problems.map((p) => `${p} in ${line}`);
}

/** Everything secret the test saw go by: it must appear in no log line. */
class Secrets {
  readonly values = new Set<string>([GOOD_PASSWORD, WRONG_PASSWORD, NEW_PASSWORD]);
  add(value: string | null | undefined) {
    if (!value) return;
    this.values.add(value);
    // A credential cookie is id.secret.signature: the secret and signature parts on their own.
    for (const part of value.split('.')) if (part.length >= 32) this.values.add(part);
  }
  fromReply(reply: Reply) {
    for (const line of reply.setCookies)
      this.add(line.split(';')[0]?.split('=').slice(1).join('='));
    this.add(reply.json?.csrfToken);
    this.add(reply.json?.accessToken);
  }
}

/** The reference app in this process, logging through the default JSON-lines format. */
async function loggedServer(env: Record<string, string>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-audit-'));
  const port = await freePort();
  const audit: string[] = [];
  const operational: string[] = [];
  const server: RunningServer = await startReferenceServer(
    readEnv({
      HOST: '127.0.0.1',
      PORT: String(port),
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_SECRET: TEST_SECRET,
      ...env,
    }),
    {
      logger: createJsonLineLogger({
        audit: (line) => audit.push(line),
        operational: (line) => operational.push(line),
      }),
    },
  );
  return {
    server,
    audit,
    operational,
    async [Symbol.asyncDispose]() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true, maxRetries: 10 });
    },
  };
}

/** The (event, outcome) pairs logged, and every line checked against the schema and the secrets. */
function check(lines: string[], secrets: Secrets, emails: string[]) {
  expect(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1)).toBe(true);
  expect(lines.flatMap((l) => schemaProblems(l.trimEnd()))).toEqual([]);
  const leaks = lines.flatMap((line) =>
    [...secrets.values, ...emails]
      .filter((secret) => line.includes(secret))
      .map((secret) => `${secret.slice(0, 6)}… in ${line}`),
  );
  expect(leaks).toEqual([]);
  return new Set(
    lines.map((l) => {
      const e = JSON.parse(l) as { event: string; outcome: string };
      return `${e.event}/${e.outcome}`;
    }),
  );
}

async function signUp(url: string, secrets: Secrets, emails: string[]) {
  const agent = new Agent(url);
  const email = uniqueEmail('audit');
  emails.push(email);
  const reply = await agent.request('POST', '/auth/register', {
    json: { email, password: GOOD_PASSWORD, name: 'Ada' },
  });
  expect(reply.status).toBe(201);
  secrets.fromReply(reply);
  return { agent, email };
}

describe('the security-event log (API.md Operations)', () => {
  it('session mode: every event over HTTP (and the operator API) is one schema line with no secret', async () => {
    await using logged = await loggedServer({
      LATCHKEY_LOGIN_LIMIT: '2',
      LATCHKEY_REGISTER_LIMIT: '5',
    });
    const { server, audit } = logged;
    const secrets = new Secrets();
    const emails: string[] = [];
    const csrf = async (agent: Agent) => {
      const reply = await agent.request('GET', '/auth/session');
      secrets.fromReply(reply);
      agent.csrfToken = reply.json.csrfToken;
    };

    // register, login (success and failure), a second session
    const ada = await signUp(server.url, secrets, emails);
    const other = new Agent(server.url);
    const login = await other.request('POST', '/auth/login', {
      json: { email: ada.email, password: GOOD_PASSWORD },
    });
    expect(login.status).toBe(200);
    secrets.fromReply(login);
    const failed = await new Agent(server.url).request('POST', '/auth/login', {
      json: { email: ada.email, password: WRONG_PASSWORD },
    });
    expect(failed.status).toBe(401);

    // session_revoked: one session by id, then every other one
    await csrf(ada.agent);
    const list = await ada.agent.request('GET', '/auth/sessions');
    const others = (list.json.sessions as { id: string; current: boolean }[]).filter(
      (s) => !s.current,
    );
    expect(others.length).toBe(1);
    expect((await ada.agent.unsafe('DELETE', `/auth/sessions/${others[0]?.id}`)).status).toBe(204);
    const third = new Agent(server.url);
    secrets.fromReply(
      await third.request('POST', '/auth/login', {
        json: { email: ada.email, password: GOOD_PASSWORD },
      }),
    );
    expect((await ada.agent.unsafe('DELETE', '/auth/sessions')).status).toBe(204);

    // password_changed: a wrong current password, then the change
    const wrong = await ada.agent.unsafe('POST', '/auth/password', {
      currentPassword: WRONG_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(wrong.status).toBe(401);
    const changed = await ada.agent.unsafe('POST', '/auth/password', {
      currentPassword: GOOD_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(changed.status).toBe(204);
    secrets.fromReply(changed);

    // cookie_conflict: the session cookie twice
    const cookie = ada.agent.cookies.get(SESSION) ?? '';
    const conflict = await new Agent(server.url).request('GET', '/auth/session', {
      headers: { cookie: `${SESSION}=${cookie}; ${SESSION}=${cookie}x` },
    });
    expect(conflict.status).toBe(401);

    // logout
    await csrf(ada.agent);
    expect((await ada.agent.unsafe('POST', '/auth/logout')).status).toBe(204);

    // lockout: a stranger hammering Bob's account
    const bob = await signUp(server.url, secrets, emails);
    const stranger = new Agent(server.url);
    let locked: Reply | undefined;
    for (let i = 0; i < 6 && locked?.status !== 429; i++) {
      locked = await stranger.request('POST', '/auth/login', {
        json: { email: bob.email, password: WRONG_PASSWORD },
      });
    }
    expect(locked?.status).toBe(429);

    // account_deleted, by the operator (as `latchkey users delete` runs it)
    const carol = await signUp(server.url, secrets, emails);
    const deleted = await server.latchkey.admin.deleteUser(carol.email);
    expect(deleted.ok).toBe(true);

    // register refused: the per-address limit
    let limited: Reply | undefined;
    for (let i = 0; i < 6 && limited?.status !== 429; i++) {
      const email = uniqueEmail('flood');
      emails.push(email);
      limited = await new Agent(server.url).request('POST', '/auth/register', {
        json: { email, password: GOOD_PASSWORD },
      });
      secrets.fromReply(limited);
    }
    expect(limited?.status).toBe(429);

    const seen = check(audit, secrets, emails);
    expect([...seen].sort()).toEqual(
      [
        'register/success',
        'register/blocked',
        'login/success',
        'login/failure',
        'session_revoked/success',
        'password_changed/failure',
        'password_changed/success',
        'cookie_conflict/blocked',
        'logout/success',
        'lockout/blocked',
        'account_deleted/success',
      ].sort(),
    );
    // Each line names its client address; the user where there is one.
    const lines = audit.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.event === 'login' && l.outcome === 'success')).toMatchObject({
      ip: '127.0.0.1',
      userId: expect.any(String),
      sessionId: expect.any(String),
      level: 'info',
    });
    expect(lines.find((l) => l.event === 'lockout')).toMatchObject({
      ip: '127.0.0.1',
      level: 'warn',
    });
  });

  it('token mode: token_reused, and no access or refresh token in any line', async () => {
    await using logged = await loggedServer({ LATCHKEY_MODE: 'token' });
    const { server, audit } = logged;
    const secrets = new Secrets();
    const emails: string[] = [];
    const { agent } = await signUp(server.url, secrets, emails);
    const stolen = agent.cookies.get('__Host-Http-refresh') ?? '';
    expect(stolen).not.toBe('');
    for (let i = 0; i < 2; i++) {
      const refreshed = await agent.request('POST', '/auth/refresh');
      expect(refreshed.status).toBe(200);
      secrets.fromReply(refreshed);
    }
    // Two rotations later the first refresh token is no retry: theft.
    const thief = new Agent(server.url);
    thief.cookies.set('__Host-Http-refresh', stolen);
    const reused = await thief.request('POST', '/auth/refresh');
    expect(reused.json.error.code).toBe('token_reused');

    const seen = check(audit, secrets, emails);
    expect([...seen].sort()).toEqual(['login/success', 'register/success', 'token_reused/blocked']);
  });

  it(
    'npm start writes those lines on stdout, one JSON object per line',
    { timeout: 60_000 },
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-audit-main-'));
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [
          '--conditions=@latchkey/source',
          '--import',
          'tsx',
          join(import.meta.dirname, '..', 'src', 'main.ts'),
        ],
        {
          env: {
            ...process.env,
            PORT: String(port),
            HOST: '127.0.0.1',
            LATCHKEY_DATA_DIR: dataDir,
            LATCHKEY_SECRET: TEST_SECRET,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      try {
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
        while (!stdout.includes(' on http://')) {
          if (child.exitCode !== null) throw new Error(`exited: ${stdout}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const secrets = new Secrets();
        const emails: string[] = [];
        const { email } = await signUp(`http://127.0.0.1:${port}`, secrets, emails);
        await new Agent(`http://127.0.0.1:${port}`).request('POST', '/auth/login', {
          json: { email, password: WRONG_PASSWORD },
        });
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        // Operator lines ("latchkey: …") are plain text; every other line is an event.
        const lines = stdout
          .split('\n')
          .filter((l) => l !== '' && !l.startsWith('latchkey: '))
          .map((l) => `${l}\n`);
        const seen = check(lines, secrets, emails);
        expect([...seen].sort()).toEqual(['login/failure', 'login/success', 'register/success']);
      } finally {
        child.kill('SIGKILL');
        await rm(dataDir, { recursive: true, force: true, maxRetries: 10 });
      }
    },
  );
});
