import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, GOOD_PASSWORD, registered, startTestServer, type TestServer } from './harness.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.dispose());

async function signIn(email: string, userAgent: string): Promise<Agent> {
  const agent = new Agent(server.url);
  const reply = await agent.request('POST', '/auth/login', {
    json: { email, password: GOOD_PASSWORD },
    headers: { 'user-agent': userAgent },
  });
  expect(reply.status).toBe(200);
  return agent;
}

describe('GET /auth/sessions', () => {
  it("lists the caller's own sessions with device, address and the current marker", async () => {
    const { agent, email } = await registered(server.url);
    const phone = await signIn(email, 'Phone/1.0');
    await registered(server.url); // someone else's session must not appear
    const reply = await phone.request('GET', '/auth/sessions', {
      headers: { 'user-agent': 'Phone/1.0' },
    });
    expect(reply.status).toBe(200);
    expect(reply.json.sessions).toHaveLength(2);
    for (const s of reply.json.sessions) {
      expect(Object.keys(s).sort()).toEqual([
        'createdAt',
        'current',
        'expiresAt',
        'id',
        'ip',
        'lastSeenAt',
        'userAgent',
      ]);
      expect(s.ip).toMatch(/127\.0\.0\.1/);
    }
    const current = reply.json.sessions.filter((s: { current: boolean }) => s.current);
    expect(current).toHaveLength(1);
    expect(current[0].userAgent).toBe('Phone/1.0');
    const mine = (await phone.request('GET', '/auth/session')).json.session.id;
    expect(current[0].id).toBe(mine);
    expect(JSON.stringify(reply.json)).not.toContain(
      phone.cookies.get('__Host-Http-session')?.split('.')[1],
    );
    expect((await agent.request('GET', '/auth/sessions')).json.sessions).toHaveLength(2);
  });

  it('answers 401 without a session', async () => {
    expect((await new Agent(server.url).request('GET', '/auth/sessions')).status).toBe(401);
  });
});

describe('DELETE /auth/sessions/:id', () => {
  it("revokes one of the caller's sessions; that device is signed out at once", async () => {
    const { agent, email } = await registered(server.url);
    const laptop = await signIn(email, 'Laptop/2.0');
    const laptopId = (await laptop.request('GET', '/auth/session')).json.session.id;
    const reply = await agent.unsafe('DELETE', `/auth/sessions/${laptopId}`);
    expect(reply.status).toBe(204);
    expect((await laptop.request('GET', '/auth/session')).status).toBe(401);
    expect((await agent.request('GET', '/auth/session')).status).toBe(200);
  });

  it("answers 404 for another user's session and leaves it alone", async () => {
    const alice = await registered(server.url);
    const bob = await registered(server.url);
    const bobId = (await bob.agent.request('GET', '/auth/session')).json.session.id;
    const reply = await alice.agent.unsafe('DELETE', `/auth/sessions/${bobId}`);
    expect(reply.status).toBe(404);
    expect(reply.json.error.code).toBe('not_found');
    expect((await bob.agent.request('GET', '/auth/session')).status).toBe(200);
    expect((await alice.agent.unsafe('DELETE', '/auth/sessions/does-not-exist')).status).toBe(404);
  });

  it('revoking the current session signs the caller out', async () => {
    const { agent } = await registered(server.url);
    const id = (await agent.request('GET', '/auth/session')).json.session.id;
    const reply = await agent.unsafe('DELETE', `/auth/sessions/${id}`);
    expect(reply.status).toBe(204);
    expect(reply.setCookies[0]).toMatch(/^__Host-Http-session=; .*Max-Age=0/);
  });

  it('needs the anti-forgery token', async () => {
    const { agent, email } = await registered(server.url);
    const other = await signIn(email, 'Other/1.0');
    const otherId = (await other.request('GET', '/auth/session')).json.session.id;
    const reply = await agent.request('DELETE', `/auth/sessions/${otherId}`);
    expect(reply.status).toBe(403);
    expect((await other.request('GET', '/auth/session')).status).toBe(200);
  });
});

describe('DELETE /auth/sessions', () => {
  it('revokes every other session of the caller, keeping the current one', async () => {
    const { agent, email } = await registered(server.url);
    const others = [await signIn(email, 'A/1'), await signIn(email, 'B/1')];
    const bystander = await registered(server.url);
    expect((await agent.unsafe('DELETE', '/auth/sessions')).status).toBe(204);
    for (const other of others)
      expect((await other.request('GET', '/auth/session')).status).toBe(401);
    expect((await agent.request('GET', '/auth/session')).status).toBe(200);
    expect((await agent.request('GET', '/auth/sessions')).json.sessions).toHaveLength(1);
    expect((await bystander.agent.request('GET', '/auth/session')).status).toBe(200);
  });
});

describe('POST /auth/password', () => {
  const NEW_PASSWORD = 'a brand new passphrase for 2026';

  it('changes the password, re-issues this session under a new id and revokes all others', async () => {
    const { agent, email } = await registered(server.url);
    const other = await signIn(email, 'Other/1');
    const before = (await agent.request('GET', '/auth/session')).json.session.id;
    const oldCookie = agent.cookies.get('__Host-Http-session') ?? '';
    const reply = await agent.unsafe('POST', '/auth/password', {
      currentPassword: GOOD_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(reply.status).toBe(204);
    expect(reply.setCookies[0]).toMatch(
      /^__Host-Http-session=.+; Path=\/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict$/,
    );
    const after = (await agent.request('GET', '/auth/session')).json.session.id;
    expect(after).not.toBe(before);
    expect((await other.request('GET', '/auth/session')).status).toBe(401);
    const stale = await new Agent(server.url).request('GET', '/auth/session', {
      headers: { cookie: `__Host-Http-session=${oldCookie}` },
    });
    expect(stale.status).toBe(401);
    const oldLogin = await new Agent(server.url).request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
    });
    expect(oldLogin.status).toBe(401);
    const newLogin = await new Agent(server.url).request('POST', '/auth/login', {
      json: { email, password: NEW_PASSWORD },
    });
    expect(newLogin.status).toBe(200);
  });

  it('refuses a wrong current password with 401 invalid_credentials and changes nothing', async () => {
    const { agent, email } = await registered(server.url);
    const reply = await agent.unsafe('POST', '/auth/password', {
      currentPassword: 'definitely not it, sorry',
      newPassword: NEW_PASSWORD,
    });
    expect(reply.status).toBe(401);
    expect(reply.json.error.code).toBe('invalid_credentials');
    expect((await agent.request('GET', '/auth/session')).status).toBe(200);
    const login = await new Agent(server.url).request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
    });
    expect(login.status).toBe(200);
  });

  it('applies the password policy to the new password', async () => {
    const { agent } = await registered(server.url);
    const reply = await agent.unsafe('POST', '/auth/password', {
      currentPassword: GOOD_PASSWORD,
      newPassword: 'short',
    });
    expect(reply.status).toBe(422);
    expect(reply.json.error.code).toBe('weak_password');
  });

  it('needs the anti-forgery token and a session', async () => {
    const { agent } = await registered(server.url);
    const body = { json: { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD } };
    expect((await agent.request('POST', '/auth/password', body)).status).toBe(403);
    expect((await new Agent(server.url).request('POST', '/auth/password', body)).status).toBe(401);
  });
});
