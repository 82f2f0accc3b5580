import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  GOOD_PASSWORD,
  registered,
  startTestServer,
  TEST_SECRET,
  uniqueEmail,
  type TestServer,
  SECURITY_HEADERS,
} from './harness.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ LATCHKEY_ORIGINS: 'https://admin.example.com' });
});
afterAll(() => server.dispose());

const REQUIRED_HEADERS = SECURITY_HEADERS;

describe('security headers', () => {
  it('are on every response: auth, API, errors, health, the SPA shell', async () => {
    const { agent } = await registered(server.url);
    const replies = [
      await agent.request('GET', '/auth/session'),
      await agent.request('GET', '/api/notes'),
      await new Agent(server.url).request('GET', '/api/notes'),
      await new Agent(server.url).request('POST', '/auth/login', {
        body: 'x',
        headers: { 'content-type': 'text/plain' },
      }),
      await new Agent(server.url).request('GET', '/healthz'),
      await new Agent(server.url).request('GET', '/'),
      await new Agent(server.url).request('GET', '/no-such-file'),
    ];
    for (const reply of replies) {
      for (const [name, pattern] of Object.entries(REQUIRED_HEADERS)) {
        expect(reply.headers.get(name), name).toMatch(pattern);
      }
      const csp = reply.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("base-uri 'none'");
      const maxAge = Number(
        /max-age=(\d+)/.exec(reply.headers.get('strict-transport-security') ?? '')?.[1],
      );
      expect(maxAge).toBeGreaterThanOrEqual(31_536_000);
    }
  });

  it('Cache-Control: no-store on every /auth answer, success or error', async () => {
    const { agent } = await registered(server.url);
    for (const reply of [
      await agent.request('GET', '/auth/session'),
      await agent.request('GET', '/auth/sessions'),
      await new Agent(server.url).request('GET', '/auth/session'),
      await new Agent(server.url).request('GET', '/auth/unknown'),
      await agent.unsafe('POST', '/auth/logout'),
    ]) {
      expect(reply.headers.get('cache-control')).toBe('no-store');
    }
  });
});

describe('cross-origin protection', () => {
  const attempts: [string, Record<string, string>][] = [
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['Origin: null', { origin: 'null' }],
  ];

  it.each(attempts)('refuses login with %s (login CSRF)', async (_label, headers) => {
    const { email } = await registered(server.url);
    const reply = await new Agent(server.url).request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
      headers,
    });
    expect(reply.status).toBe(403);
    expect(reply.json.error.code).toBe('csrf_failed');
    expect(reply.setCookies).toEqual([]);
  });

  it.each(attempts)(
    'refuses an authenticated unsafe request with %s, even with a valid token',
    async (_l, headers) => {
      const { agent } = await registered(server.url);
      const token = await agent.refreshCsrf();
      const reply = await agent.request('POST', '/api/notes', {
        json: { text: 'forged' },
        headers: { ...headers, 'x-csrf-token': token },
      });
      expect(reply.status).toBe(403);
      expect((await agent.request('GET', '/api/notes')).json.notes).toEqual([]);
    },
  );

  it('accepts same-origin browsers, configured extra origins and non-browser clients', async () => {
    const { agent } = await registered(server.url);
    const token = await agent.refreshCsrf();
    for (const headers of [
      { 'sec-fetch-site': 'same-origin', origin: server.url },
      { origin: 'https://admin.example.com' },
      {},
    ]) {
      const reply = await agent.request('POST', '/api/notes', {
        json: { text: 'ok' },
        headers: { ...headers, 'x-csrf-token': token },
      });
      expect(reply.status).toBe(201);
    }
  });

  it('requires the session-bound anti-forgery token: missing, wrong or another session’s is 403', async () => {
    const { agent } = await registered(server.url);
    const other = await registered(server.url);
    const othersToken = await other.agent.refreshCsrf();
    for (const headers of [{}, { 'x-csrf-token': 'nope' }, { 'x-csrf-token': othersToken }]) {
      const reply = await agent.request('POST', '/api/notes', {
        json: { text: 'forged' },
        headers,
      });
      expect(reply.status).toBe(403);
      expect(reply.json.error.code).toBe('csrf_failed');
    }
    expect((await agent.request('GET', '/api/notes')).json.notes).toEqual([]);
  });
});

describe('bad input', () => {
  const post = (init: { body?: string; headers?: Record<string, string> }) =>
    new Agent(server.url).request('POST', '/auth/login', init);

  it.each([
    ['malformed JSON', '{"email": ', 'application/json'],
    ['a JSON array', '[]', 'application/json'],
    ['JSON null', 'null', 'application/json'],
    ['a missing field', JSON.stringify({ email: 'a@example.com' }), 'application/json'],
    ['wrong types', JSON.stringify({ email: 42, password: ['x'] }), 'application/json'],
    [
      'an over-long email',
      JSON.stringify({ email: `${'a'.repeat(250)}@example.com`, password: 'x' }),
      'application/json',
    ],
    [
      'an invalid email',
      JSON.stringify({ email: 'not-an-email', password: 'x' }),
      'application/json',
    ],
    [
      'an over-long password',
      JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(5000) }),
      'application/json',
    ],
    ['invalid UTF-8', '\xff\xfe', 'application/json; charset=utf-8'],
  ])('%s is 400 invalid_request', async (_label, body, type) => {
    const reply = await post({ body, headers: { 'content-type': type } });
    expect(reply.status).toBe(400);
    expect(reply.json.error.code).toBe('invalid_request');
  });

  it.each([
    ['text/plain', 'x'],
    ['application/x-www-form-urlencoded', 'email=a&password=b'],
    ['multipart/form-data; boundary=x', '--x--'],
  ])('a %s body is 415 unsupported_media_type', async (type, body) => {
    const reply = await post({ body, headers: { 'content-type': type } });
    expect(reply.status).toBe(415);
    expect(reply.json.error.code).toBe('unsupported_media_type');
  });

  it('a missing Content-Type is 415', async () => {
    const reply = await new Agent(server.url).request('POST', '/auth/register', {
      body: new Blob(['{}']),
    });
    expect(reply.status).toBe(415);
  });

  it('a body over 16 KiB is 413 payload_too_large, declared or streamed', async () => {
    const big = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(17_000) });
    const reply = await post({ body: big, headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(413);
    expect(reply.json.error.code).toBe('payload_too_large');
    const streamed = await fetch(`${server.url}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 40; i++)
            controller.enqueue(new TextEncoder().encode(' '.repeat(1024)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('error bodies are the one JSON shape and leak nothing', async () => {
    const replies = [
      await post({ body: '{"email":', headers: { 'content-type': 'application/json' } }),
      await post({
        body: JSON.stringify({ email: "x'; DROP TABLE users;--@example.com", password: 'x' }),
        headers: { 'content-type': 'application/json' },
      }),
      await new Agent(server.url).request('GET', '/auth/session', {
        headers: { cookie: '__Host-Http-session=../../etc/passwd' },
      }),
    ];
    for (const reply of replies) {
      expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(Object.keys(reply.json)).toEqual(['error']);
      expect(Object.keys(reply.json.error).sort()).toEqual(['code', 'message']);
      expect(reply.text).not.toMatch(/\bat .+:\d+|SELECT|INSERT|sqlite|DROP TABLE|passwd|stack/i);
    }
  });
});

describe('login rate limits', () => {
  it('locks an account after LATCHKEY_LOGIN_LIMIT failures with 429 and Retry-After; success resets', async () => {
    await using limited = await startTestServer({ LATCHKEY_LOGIN_LIMIT: '3' });
    const { email } = await registered(limited.url);
    const attempt = (password: string) =>
      new Agent(limited.url).request('POST', '/auth/login', { json: { email, password } });

    // Two failures, then a success resets the account's count.
    expect((await attempt('wrong password number 1')).status).toBe(401);
    expect((await attempt('wrong password number 2')).status).toBe(401);
    expect((await attempt(GOOD_PASSWORD)).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect((await attempt(`wrong password again ${i}`)).status).toBe(401);
    const locked = await attempt(GOOD_PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.json.error.code).toBe('rate_limited');
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(limited.events.some((e) => e.event === 'login_locked')).toBe(true);
    // Another account from the same address is not locked by this one.
    const other = await registered(limited.url);
    const ok = await new Agent(limited.url).request('POST', '/auth/login', {
      json: { email: other.email, password: GOOD_PASSWORD },
    });
    expect(ok.status).toBe(200);
  });

  it('limits one address across many accounts at 20× the account limit', async () => {
    await using limited = await startTestServer({ LATCHKEY_LOGIN_LIMIT: '1' });
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const reply = await new Agent(limited.url).request('POST', '/auth/login', {
        json: { email: uniqueEmail('spray'), password: 'password spraying attempt' },
      });
      statuses.push(reply.status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it('counts only failures per address: an office behind one NAT can sign in all day', async () => {
    await using limited = await startTestServer({ LATCHKEY_LOGIN_LIMIT: '1' });
    const { email } = await registered(limited.url);
    for (let i = 0; i < 25; i++) {
      const reply = await new Agent(limited.url).request('POST', '/auth/login', {
        json: { email, password: GOOD_PASSWORD },
      });
      expect(reply.status).toBe(200);
    }
  });

  it('counts survive a restart (they live in the store)', async () => {
    await using first = await startTestServer({ LATCHKEY_LOGIN_LIMIT: '2' });
    const { email } = await registered(first.url);
    for (let i = 0; i < 2; i++) {
      await new Agent(first.url).request('POST', '/auth/login', {
        json: { email, password: `nope nope nope ${i}` },
      });
    }
    await first.close();
    await using second = await startTestServer(
      { LATCHKEY_LOGIN_LIMIT: '2' },
      { dataDir: first.dataDir },
    );
    const reply = await new Agent(second.url).request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
    });
    expect(reply.status).toBe(429);
  });
});

describe('timeouts', () => {
  it('an idle session expires: 401 session_expired', async () => {
    await using quick = await startTestServer({
      LATCHKEY_IDLE_TIMEOUT: '1s',
      LATCHKEY_ABSOLUTE_TIMEOUT: '1h',
    });
    const { agent } = await registered(quick.url);
    expect((await agent.request('GET', '/auth/session')).status).toBe(200);
    await sleep(1200);
    const reply = await agent.request('GET', '/auth/session');
    expect(reply.status).toBe(401);
    expect(reply.json.error.code).toBe('session_expired');
  });

  it('the absolute timeout ends even an active session', async () => {
    // Idle 2 s, absolute 3 s: requests every 300 ms keep the session active for
    // longer than the idle timeout, with margin for a loaded CI machine.
    await using quick = await startTestServer({
      LATCHKEY_IDLE_TIMEOUT: '2s',
      LATCHKEY_ABSOLUTE_TIMEOUT: '3s',
    });
    const started = Date.now();
    const { agent } = await registered(quick.url);
    const { session } = (await agent.request('GET', '/auth/session')).json;
    expect(Date.parse(session.expiresAt) - Date.parse(session.createdAt)).toBe(3000);
    while (Date.now() - started < 2200) {
      const reply = await agent.request('GET', '/auth/session');
      expect(reply.status).toBe(200);
      expect(reply.json.session.expiresAt).toBe(session.expiresAt);
      await sleep(300);
    }
    await sleep(Math.max(0, Date.parse(session.expiresAt) - Date.now()) + 100);
    expect((await agent.request('GET', '/auth/session')).json.error.code).toBe('session_expired');
  });
});

describe('secret rotation', () => {
  it('a cookie signed with the previous secret still works and is re-issued under the new one', async () => {
    await using before = await startTestServer();
    const { agent } = await registered(before.url);
    const old = agent.cookies.get('__Host-Http-session') ?? '';
    await before.close();
    const NEW = 'the-new-secret-'.padEnd(40, 'n');
    await using after = await startTestServer(
      { LATCHKEY_SECRET: `${NEW},${TEST_SECRET}` },
      { dataDir: before.dataDir },
    );
    const moved = new Agent(after.url);
    moved.cookies.set('__Host-Http-session', old);
    const reply = await moved.request('GET', '/auth/session');
    expect(reply.status).toBe(200);
    expect(reply.setCookies[0]).toMatch(
      /^__Host-Http-session=.+; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/,
    );
    const renewed = moved.cookies.get('__Host-Http-session') ?? '';
    expect(renewed).not.toBe(old);
    expect(renewed.split('.').slice(0, 2)).toEqual(old.split('.').slice(0, 2));
    await after.close();
    // Once the old secret is retired, only the renewed cookie works.
    await using retired = await startTestServer(
      { LATCHKEY_SECRET: NEW },
      { dataDir: before.dataDir },
    );
    const check = (cookie: string) =>
      new Agent(retired.url).request('GET', '/auth/session', {
        headers: { cookie: `__Host-Http-session=${cookie}` },
      });
    expect((await check(old)).status).toBe(401);
    expect((await check(renewed)).status).toBe(200);
  });
});
