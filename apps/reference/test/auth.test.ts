import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  GOOD_PASSWORD,
  registered,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from './harness.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.dispose());

const SESSION_COOKIE_LINE =
  /^__Host-Http-session=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict$/;
const DEVICE_COOKIE_LINE =
  /^__Host-Http-device=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}\.\d+\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=31536000; HttpOnly; Secure; SameSite=Strict$/;

describe('POST /auth/register', () => {
  it('creates the user, answers 201 { user } and sets the session cookie with every attribute', async () => {
    const agent = new Agent(server.url);
    const email = uniqueEmail();
    const reply = await agent.request('POST', '/auth/register', {
      json: { email: `  ${email.toUpperCase()} `, password: GOOD_PASSWORD, name: 'Ada Lovelace' },
    });
    expect(reply.status).toBe(201);
    expect(Object.keys(reply.json.user).sort()).toEqual([
      'createdAt',
      'email',
      'emailVerified',
      'id',
      'mfa',
      'name',
    ]);
    expect(reply.json.user).toMatchObject({ email, name: 'Ada Lovelace' });
    expect(new Date(reply.json.user.createdAt).toISOString()).toBe(reply.json.user.createdAt);
    // The session, and the device cookie that marks this browser as the account's.
    expect(reply.setCookies).toHaveLength(2);
    expect(reply.setCookies[0]).toMatch(SESSION_COOKIE_LINE);
    expect(reply.setCookies[1]).toMatch(DEVICE_COOKIE_LINE);
    for (const line of reply.setCookies) expect(line).not.toMatch(/domain=/i);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect((await agent.request('GET', '/auth/session')).status).toBe(200);
  });

  it('name is optional', async () => {
    const reply = await new Agent(server.url).request('POST', '/auth/register', {
      json: { email: uniqueEmail(), password: GOOD_PASSWORD },
    });
    expect(reply.status).toBe(201);
    expect(reply.json.user.name).toBeNull();
  });

  it('answers 409 email_taken for an existing email, in any case', async () => {
    const { email } = await registered(server.url);
    const reply = await new Agent(server.url).request('POST', '/auth/register', {
      json: { email: email.toUpperCase(), password: GOOD_PASSWORD },
    });
    expect(reply.status).toBe(409);
    expect(reply.json).toEqual({ error: { code: 'email_taken', message: expect.any(String) } });
    expect(reply.setCookies).toEqual([]);
  });

  it.each([
    ['too short (14 characters)', 'fourteen chars'],
    ['too long (129 characters)', 'x'.repeat(60) + 'y'.repeat(69)],
    ['on the common-password list', 'passwordpassword'],
    ['containing the email local part', 'weakling-ada.user-pass'],
  ])('answers 422 weak_password for a password %s', async (_label, password) => {
    const reply = await new Agent(server.url).request('POST', '/auth/register', {
      json: { email: 'ada.user@example.com', password },
    });
    expect(reply.status).toBe(422);
    expect(reply.json.error.code).toBe('weak_password');
  });
});

describe('POST /auth/login', () => {
  it('answers 200 { user } with a fresh session on every sign-in', async () => {
    const { email, user } = await registered(server.url);
    const a = new Agent(server.url);
    const b = new Agent(server.url);
    const first = await a.request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
    });
    const second = await b.request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
    });
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ user });
    expect(first.setCookies[0]).toMatch(SESSION_COOKIE_LINE);
    expect(first.setCookies[0]).not.toBe(second.setCookies[0]);
  });

  it('never promotes a cookie planted before login (session fixation)', async () => {
    const { email } = await registered(server.url);
    const attacker = await registered(server.url);
    const planted = attacker.agent.cookies.get('__Host-Http-session') ?? '';
    const victim = new Agent(server.url);
    victim.cookies.set('__Host-Http-session', planted);
    const reply = await victim.request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
    });
    expect(reply.status).toBe(200);
    const issued = victim.cookies.get('__Host-Http-session') ?? '';
    expect(issued.split('.')[0]).not.toBe(planted.split('.')[0]);
    // The planted session is replaced, so the attacker's copy no longer signs anyone in.
    expect((await attacker.agent.request('GET', '/auth/session')).status).toBe(401);
    expect((await victim.request('GET', '/auth/session')).json.user.email).toBe(email);
  });

  it('gives byte-identical answers for an unknown email and a wrong password', async () => {
    const { email } = await registered(server.url);
    const wrong = await new Agent(server.url).request('POST', '/auth/login', {
      json: { email, password: 'not the password at all' },
    });
    const unknown = await new Agent(server.url).request('POST', '/auth/login', {
      json: { email: uniqueEmail('ghost'), password: 'not the password at all' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.text).toBe(unknown.text);
    expect(wrong.json.error.code).toBe('invalid_credentials');
    expect([...wrong.headers.keys()].sort()).toEqual([...unknown.headers.keys()].sort());
    expect(wrong.setCookies).toEqual([]);
  });

  it('logs sign-in events without any secret', async () => {
    const { email } = await registered(server.url);
    await new Agent(server.url).request('POST', '/auth/login', {
      json: { email, password: 'a wrong password here' },
    });
    const log = JSON.stringify(server.events);
    expect(server.events.some((e) => e.event === 'login_failed')).toBe(true);
    expect(server.events.some((e) => e.event === 'login_succeeded')).toBe(true);
    expect(log).not.toContain(GOOD_PASSWORD);
    expect(log).not.toContain('a wrong password here');
    expect(log).not.toMatch(/[A-Za-z0-9_-]{43}/);
  });
});

describe('GET /auth/session', () => {
  it('answers { user, session, csrfToken } for a signed-in caller', async () => {
    const { agent, user } = await registered(server.url);
    const reply = await agent.request('GET', '/auth/session');
    expect(reply.status).toBe(200);
    expect(reply.json.user).toEqual(user);
    expect(Object.keys(reply.json.session).sort()).toEqual([
      'createdAt',
      'expiresAt',
      'id',
      'idleExpiresAt',
    ]);
    expect(reply.json.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { createdAt, expiresAt, idleExpiresAt } = reply.json.session;
    expect(Date.parse(expiresAt) - Date.parse(createdAt)).toBe(12 * 3_600_000);
    expect(Date.parse(idleExpiresAt) - Date.parse(createdAt)).toBe(30 * 60_000);
    // The public id is not the secret cookie value.
    expect(agent.cookies.get('__Host-Http-session')).not.toContain(reply.json.csrfToken);
    expect(agent.cookies.get('__Host-Http-session')?.startsWith(reply.json.session.id)).toBe(true);
  });

  it('answers 401 unauthenticated with no cookie, a garbage cookie or a forged one', async () => {
    const { agent } = await registered(server.url);
    const real = agent.cookies.get('__Host-Http-session') ?? '';
    const [id, secret, sig] = real.split('.') as [string, string, string];
    const cookies = [
      undefined,
      'garbage',
      '%%%;;;===',
      `${id}.${secret}`,
      `${id}.${secret}.${sig.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`,
      `${id}.${'A'.repeat(43)}.${sig}`,
      real.slice(0, -3),
      'x'.repeat(5000),
    ];
    for (const cookie of cookies) {
      const reply = await new Agent(server.url).request('GET', '/auth/session', {
        headers: cookie === undefined ? {} : { cookie: `__Host-Http-session=${cookie}` },
      });
      expect(reply.status, String(cookie)).toBe(401);
      expect(reply.json.error.code).toBe('unauthenticated');
    }
  });
});

describe('POST /auth/logout', () => {
  it('revokes the session server-side, clears the cookie and sends Clear-Site-Data', async () => {
    const { agent } = await registered(server.url);
    const stolen = agent.cookies.get('__Host-Http-session') ?? '';
    const reply = await agent.unsafe('POST', '/auth/logout');
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    // Not "cookies" (it reaches sibling sites) nor "cache" (it stalls Chromium).
    expect(reply.headers.get('clear-site-data')).toBe('"storage"');
    expect(reply.setCookies).toEqual([
      '__Host-Http-session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict',
    ]);
    // A copy of the cookie kept by anyone is now worthless.
    const replay = await new Agent(server.url).request('GET', '/auth/session', {
      headers: { cookie: `__Host-Http-session=${stolen}` },
    });
    expect(replay.status).toBe(401);
    expect(server.events.some((e) => e.event === 'logout')).toBe(true);
  });

  it('needs the anti-forgery token when a session is present', async () => {
    const { agent } = await registered(server.url);
    const reply = await agent.request('POST', '/auth/logout');
    expect(reply.status).toBe(403);
    expect(reply.json.error.code).toBe('csrf_failed');
    expect((await agent.request('GET', '/auth/session')).status).toBe(200);
  });

  it('is idempotent for a caller with no session', async () => {
    expect((await new Agent(server.url).request('POST', '/auth/logout')).status).toBe(204);
  });
});

describe('unknown routes', () => {
  it('answer 404 not_found in the JSON shape', async () => {
    for (const [method, path] of [
      ['GET', '/auth/nope'],
      ['PUT', '/auth/login'],
      ['GET', '/api/nope'],
      ['GET', '/nope.txt'],
    ] as const) {
      const reply = await new Agent(server.url).request(method, path);
      expect(reply.status, `${method} ${path}`).toBe(path.startsWith('/api') ? 401 : 404);
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    }
  });
});
