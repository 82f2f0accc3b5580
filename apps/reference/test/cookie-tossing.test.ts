import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, GOOD_PASSWORD, registered, startTestServer, type TestServer } from './harness.js';

// A sibling subdomain (evil.example.com next to app.example.com) can set cookies for
// the whole registrable domain under any name without a __Host- prefix. These tests
// send, over raw HTTP, what such a planted cookie makes a browser send.

const SESSION = '__Host-Http-session';
const REFRESH = '__Host-Http-refresh';

let server: TestServer;
let tokenServer: TestServer;
beforeAll(async () => {
  [server, tokenServer] = await Promise.all([
    startTestServer(),
    startTestServer({ LATCHKEY_MODE: 'token' }),
  ]);
});
afterAll(() => Promise.all([server.dispose(), tokenServer.dispose()]));

/** A request with exactly this Cookie header (the agent's own jar is bypassed). */
const withCookie = (baseUrl: string, method: string, path: string, cookie: string) =>
  new Agent(baseUrl).request(method, path, { headers: { cookie } });

describe('session cookie names are compared byte for byte', () => {
  // String.prototype.trim strips U+00A0 (header bytes arrive as Latin-1), so a planted
  // "\u00A0__Host-Http-session" used to be read as the session cookie: the sibling
  // signed the victim in as the attacker.
  it.each([
    ['a non-breaking space before the name', `\u00A0${SESSION}`],
    ['a non-breaking space after the name', `${SESSION}\u00A0`],
    ['a UTF-8 encoded non-breaking space after the name', `${SESSION}\u00C2\u00A0`],
    ['a lower-case prefix', SESSION.toLowerCase()],
  ])('a cookie named with %s is another cookie', async (_, plantedName) => {
    const attacker = await registered(server.url, 'Mallory');
    const value = attacker.agent.cookies.get(SESSION) ?? '';
    // Node's fetch sends header bytes as Latin-1, as a browser's obs-text would arrive.
    const reply = await withCookie(server.url, 'GET', '/auth/session', `${plantedName}=${value}`);
    expect(reply.status).toBe(401);
    expect(reply.json.error.code).toBe('unauthenticated');
  });

  it('only spaces and tabs around a name are optional whitespace', async () => {
    const { agent } = await registered(server.url);
    const value = agent.cookies.get(SESSION) ?? '';
    const reply = await withCookie(
      server.url,
      'GET',
      '/auth/session',
      `a=1;\t${SESSION} = ${value}`,
    );
    expect(reply.status).toBe(200);
  });
});

describe('a credential cookie sent twice is a conflict: refused, logged, never cleared', () => {
  it('session mode: the victim is not signed in as the attacker, and keeps their cookie', async () => {
    const victim = await registered(server.url, 'Ada');
    const attacker = await registered(server.url, 'Mallory');
    const mine = victim.agent.cookies.get(SESSION) ?? '';
    const planted = attacker.agent.cookies.get(SESSION) ?? '';
    for (const order of [
      `${SESSION}=${planted}; ${SESSION}=${mine}`,
      `${SESSION}=${mine}; ${SESSION}=${planted}`,
    ]) {
      const before = server.events.length;
      const reply = await withCookie(server.url, 'GET', '/auth/session', order);
      expect(reply.status).toBe(401);
      expect(reply.json.error.code).toBe('unauthenticated');
      expect(reply.setCookies).toEqual([]);
      expect(server.events.slice(before)).toContainEqual(
        expect.objectContaining({ event: 'cookie_conflict', cookie: SESSION }),
      );
    }
    // The app's own API and sign-out refuse too, and clear nothing.
    expect(
      (
        await withCookie(
          server.url,
          'GET',
          '/api/notes',
          `${SESSION}=${planted}; ${SESSION}=${mine}`,
        )
      ).status,
    ).toBe(401);
    const logout = await withCookie(
      server.url,
      'POST',
      '/auth/logout',
      `${SESSION}=${planted}; ${SESSION}=${mine}`,
    );
    expect(logout.status).toBe(401);
    expect(logout.setCookies).toEqual([]);
    // Once the planted cookie is gone, the victim's own session works: it was not revoked.
    expect((await victim.agent.request('GET', '/auth/session')).json.user.email).toBe(victim.email);
  });

  it('a sign-in with a duplicated session cookie is refused before any password check', async () => {
    const { email, agent } = await registered(server.url);
    const value = agent.cookies.get(SESSION) ?? '';
    const reply = await new Agent(server.url).request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
      headers: { cookie: `${SESSION}=${value}; ${SESSION}=${value}` },
    });
    expect(reply.status).toBe(401);
    expect(reply.json.error.code).toBe('unauthenticated');
    expect(reply.setCookies).toEqual([]);
  });

  it('token mode: a duplicated refresh cookie is refused and the family survives', async () => {
    const victim = new Agent(tokenServer.url);
    const attacker = new Agent(tokenServer.url);
    for (const [agent, email] of [
      [victim, 'victim'],
      [attacker, 'attacker'],
    ] as const) {
      const reply = await agent.request('POST', '/auth/register', {
        json: { email: `${email}.${Date.now()}@example.com`, password: GOOD_PASSWORD },
      });
      expect(reply.status).toBe(201);
    }
    const mine = victim.cookies.get(REFRESH) ?? '';
    const planted = attacker.cookies.get(REFRESH) ?? '';
    const reply = await withCookie(
      tokenServer.url,
      'POST',
      '/auth/refresh',
      `${REFRESH}=${planted}; ${REFRESH}=${mine}`,
    );
    expect(reply.status).toBe(401);
    expect(reply.json.error.code).toBe('unauthenticated');
    expect(reply.setCookies).toEqual([]);
    expect(tokenServer.events).toContainEqual(
      expect.objectContaining({ event: 'cookie_conflict', cookie: REFRESH }),
    );
    expect((await victim.request('POST', '/auth/refresh')).status).toBe(200);
  });
});

describe('the refresh cookie is __Host-Http-refresh on Path=/', () => {
  // v1's "__Secure-refresh; Path=/auth" could be planted from a sibling with
  // Domain=example.com and Path=/auth/refresh, which browsers send first.
  it('a refresh token planted under the v1 name is never read', async () => {
    const attacker = new Agent(tokenServer.url);
    await attacker.request('POST', '/auth/register', {
      json: { email: `mallory.${Date.now()}@example.com`, password: GOOD_PASSWORD },
    });
    const planted = attacker.cookies.get(REFRESH) ?? '';
    const reply = await withCookie(
      tokenServer.url,
      'POST',
      '/auth/refresh',
      `__Secure-refresh=${planted}`,
    );
    expect(reply.status).toBe(401);
    expect(reply.json.error.code).toBe('unauthenticated');
  });

  it('is issued host-only, Secure, HttpOnly, on Path=/', async () => {
    const agent = new Agent(tokenServer.url);
    const reply = await agent.request('POST', '/auth/register', {
      json: { email: `ada.${Date.now()}@example.com`, password: GOOD_PASSWORD },
    });
    const line = reply.setCookies.find((l) => l.startsWith(`${REFRESH}=`)) ?? '';
    expect(line).toMatch(/; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/);
    expect(line).not.toMatch(/domain=/i);
  });
});
