import { setTimeout as sleep } from 'node:timers/promises';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from './harness.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ LATCHKEY_MODE: 'token', LATCHKEY_REFRESH_RETRY_WINDOW: '2s' });
});
afterAll(() => server.dispose());

const REFRESH_LINE =
  /^__Host-Http-refresh=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/;

/** A token-mode client: the access token in a variable, the refresh token in the cookie jar. */
class TokenAgent extends Agent {
  accessToken = '';
  bearer(method: string, path: string, json?: unknown) {
    return this.request(method, path, {
      ...(json === undefined ? {} : { json }),
      headers: { authorization: `Bearer ${this.accessToken}` },
    });
  }
  async refresh() {
    const reply = await this.request('POST', '/auth/refresh');
    if (reply.status === 200) this.accessToken = reply.json.accessToken;
    return reply;
  }
}

async function signedUp(): Promise<{ agent: TokenAgent; email: string; reply: any }> {
  const agent = new TokenAgent(server.url);
  const email = uniqueEmail('token');
  const reply = await agent.request('POST', '/auth/register', {
    json: { email, password: GOOD_PASSWORD },
  });
  expect(reply.status).toBe(201);
  agent.accessToken = reply.json.accessToken;
  return { agent, email, reply };
}

const decode = (token: string, part: 0 | 1) =>
  JSON.parse(Buffer.from(token.split('.')[part] ?? '', 'base64url').toString());

describe('token mode: sign-in', () => {
  it('register and login answer { user, accessToken, accessTokenExpiresAt } and set only the refresh cookie', async () => {
    const { email, reply } = await signedUp();
    expect(Object.keys(reply.json).sort()).toEqual(['accessToken', 'accessTokenExpiresAt', 'user']);
    expect(reply.setCookies).toHaveLength(2);
    expect(reply.setCookies[0]).toMatch(REFRESH_LINE);
    expect(reply.setCookies[1]).toMatch(
      /^__Host-Http-device=[^;]+; Path=\/; Max-Age=31536000; HttpOnly; Secure; SameSite=Strict$/,
    );
    expect(reply.setCookies[0]).toContain('Max-Age=43200');
    const login = await new Agent(server.url).request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
    });
    expect(login.status).toBe(200);
    expect(login.json.user.email).toBe(email);
    expect(login.setCookies[0]).toMatch(REFRESH_LINE);
    const header = decode(login.json.accessToken, 0);
    const claims = decode(login.json.accessToken, 1);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(header.kid).toBeTruthy();
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
    expect(claims.exp - claims.iat).toBe(600);
    expect(new Date(login.json.accessTokenExpiresAt).getTime()).toBe(claims.exp * 1000);
  });

  it('the bearer token authenticates the API; without it the answer is 401', async () => {
    const { agent } = await signedUp();
    expect(
      (await agent.bearer('POST', '/api/notes', { text: 'no csrf header needed' })).status,
    ).toBe(201);
    expect((await agent.bearer('GET', '/api/notes')).json.notes).toHaveLength(1);
    expect((await agent.request('GET', '/api/notes')).status).toBe(401);
  });

  it('GET /auth/session: the family of the token, no csrfToken', async () => {
    const { agent } = await signedUp();
    const reply = await agent.bearer('GET', '/auth/session');
    expect(reply.status).toBe(200);
    expect(reply.json.csrfToken).toBeUndefined();
    expect(reply.json.session.id).toBe(decode(agent.accessToken, 1).sid);
  });

  it('the JWKS verifies access tokens for another service, with public keys only', async () => {
    const { agent } = await signedUp();
    const jwks = await new Agent(server.url).request('GET', '/auth/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('cache-control')).toBe('no-store');
    for (const key of jwks.json.keys) expect(key.d).toBeUndefined();
    const { payload } = await jwtVerify(agent.accessToken, createLocalJWKSet(jwks.json), {
      issuer: server.url,
      audience: server.url,
      algorithms: ['EdDSA'],
    });
    expect(payload.sid).toBeTruthy();
  });
});

describe('token mode: refresh', () => {
  it('without a refresh cookie is 401 unauthenticated (a signed-out page)', async () => {
    const reply = await new Agent(server.url).request('POST', '/auth/refresh');
    expect(reply.status).toBe(401);
    expect(reply.json.error.code).toBe('unauthenticated');
  });

  it('rotates the refresh cookie and answers a new access token', async () => {
    const { agent } = await signedUp();
    const before = agent.cookies.get('__Host-Http-refresh');
    const reply = await agent.refresh();
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.json).sort()).toEqual(['accessToken', 'accessTokenExpiresAt', 'user']);
    expect(reply.setCookies[0]).toMatch(REFRESH_LINE);
    expect(agent.cookies.get('__Host-Http-refresh')).not.toBe(before);
    expect((await agent.bearer('GET', '/api/notes')).status).toBe(200);
  });

  it('a replay within the retry window is answered; after it the family is revoked: token_reused', async () => {
    const { agent } = await signedUp();
    const stolen = agent.cookies.get('__Host-Http-refresh') ?? '';
    expect((await agent.refresh()).status).toBe(200);
    const thief = new TokenAgent(server.url);
    thief.cookies.set('__Host-Http-refresh', stolen);
    expect((await thief.refresh()).status).toBe(200); // looks like a retry after a lost response
    await sleep(2100);
    const replay = new TokenAgent(server.url);
    replay.cookies.set('__Host-Http-refresh', stolen);
    const reused = await replay.refresh();
    expect(reused.status).toBe(401);
    expect(reused.json.error.code).toBe('token_reused');
    // Everyone holding a token of that family is out.
    expect((await agent.refresh()).status).toBe(401);
    expect((await thief.refresh()).status).toBe(401);
    expect(server.events.some((e) => e.event === 'refresh_reused')).toBe(true);
  });

  it('two clients refreshing with the same token at the same moment: one rotation, both answered', async () => {
    const { agent } = await signedUp();
    const twin = new TokenAgent(server.url);
    twin.cookies.set('__Host-Http-refresh', agent.cookies.get('__Host-Http-refresh') ?? '');
    const [a, b] = await Promise.all([agent.refresh(), twin.refresh()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json.accessToken).not.toBe(b.json.accessToken);
    expect(decode(a.json.accessToken, 1).sid).toBe(decode(b.json.accessToken, 1).sid);
  });

  it('is refused cross-site (Sec-Fetch-Site / Origin), leaving the family untouched', async () => {
    const { agent } = await signedUp();
    for (const headers of [
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
    ]) {
      const reply = await agent.request('POST', '/auth/refresh', { headers });
      expect(reply.status).toBe(403);
      expect(reply.json.error.code).toBe('csrf_failed');
    }
    expect((await agent.refresh()).status).toBe(200);
  });
});

describe('token mode: sessions, password, logout', () => {
  it('lists families with current = the token’s family, and revokes one', async () => {
    const { agent, email } = await signedUp();
    const laptop = new TokenAgent(server.url);
    const login = await laptop.request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
    });
    laptop.accessToken = login.json.accessToken;
    const list = await agent.bearer('GET', '/auth/sessions');
    expect(list.json.sessions).toHaveLength(2);
    const current = list.json.sessions.find((s: { current: boolean }) => s.current);
    expect(current.id).toBe(decode(agent.accessToken, 1).sid);
    const laptopId = decode(laptop.accessToken, 1).sid;
    expect((await agent.bearer('DELETE', `/auth/sessions/${laptopId}`)).status).toBe(204);
    expect((await laptop.refresh()).status).toBe(401);
  });

  it('password change re-issues the current family and revokes the others', async () => {
    const { agent, email } = await signedUp();
    const other = new TokenAgent(server.url);
    await other.request('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } });
    const oldRefresh = agent.cookies.get('__Host-Http-refresh');
    const reply = await agent.bearer('POST', '/auth/password', {
      currentPassword: GOOD_PASSWORD,
      newPassword: 'another long passphrase here',
    });
    expect(reply.status).toBe(204);
    expect(reply.setCookies[0]).toMatch(REFRESH_LINE);
    expect(agent.cookies.get('__Host-Http-refresh')).not.toBe(oldRefresh);
    expect((await agent.refresh()).status).toBe(200);
    expect((await other.refresh()).status).toBe(401);
  });

  it('logout revokes the family, clears the cookie and sends Clear-Site-Data', async () => {
    const { agent } = await signedUp();
    const kept = agent.cookies.get('__Host-Http-refresh') ?? '';
    const reply = await agent.request('POST', '/auth/logout');
    expect(reply.status).toBe(204);
    expect(reply.headers.get('clear-site-data')).toBe('"storage"');
    expect(reply.setCookies).toEqual([
      '__Host-Http-refresh=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict',
    ]);
    const replay = new TokenAgent(server.url);
    replay.cookies.set('__Host-Http-refresh', kept);
    expect((await replay.refresh()).status).toBe(401);
    expect(
      (await agent.request('POST', '/auth/logout', { headers: { 'sec-fetch-site': 'cross-site' } }))
        .status,
    ).toBe(403);
  });
});

describe('token mode: forged access tokens over HTTP', () => {
  it('alg none and a token signed by another key are 401', async () => {
    const { agent } = await signedUp();
    const [h, p] = agent.accessToken.split('.') as [string, string];
    const none = `${Buffer.from(JSON.stringify({ ...decode(agent.accessToken, 0), alg: 'none' })).toString('base64url')}.${p}.`;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...decode(agent.accessToken, 1), sub: 'someone-else' })).toString('base64url')}.${agent.accessToken.split('.')[2]}`;
    for (const token of [none, tampered, `${agent.accessToken}x`]) {
      const reply = await agent.request('GET', '/api/notes', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(reply.status).toBe(401);
    }
  });

  it('an expired access token is 401 (exp enforced to the second)', async () => {
    await using short = await startTestServer({
      LATCHKEY_MODE: 'token',
      LATCHKEY_ACCESS_TTL: '1s',
    });
    const agent = new TokenAgent(short.url);
    const reply = await agent.request('POST', '/auth/register', {
      json: { email: uniqueEmail(), password: GOOD_PASSWORD },
    });
    agent.accessToken = reply.json.accessToken;
    const exp = decode(agent.accessToken, 1).exp * 1000;
    await sleep(Math.max(0, exp - Date.now()) + 50);
    expect((await agent.bearer('GET', '/api/notes')).status).toBe(401);
    expect((await agent.refresh()).status).toBe(200);
    expect((await agent.bearer('GET', '/api/notes')).status).toBe(200);
  });
});

describe('session mode has no token routes', () => {
  it('/auth/refresh and /auth/jwks.json are 404', async () => {
    await using sessionServer = await startTestServer();
    expect((await new Agent(sessionServer.url).request('POST', '/auth/refresh')).status).toBe(404);
    expect((await new Agent(sessionServer.url).request('GET', '/auth/jwks.json')).status).toBe(404);
  });
});
