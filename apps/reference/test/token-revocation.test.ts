import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from './harness.js';

// ASVS 7.4.1: an access token must not outlive its session. Before, a bearer token
// kept working after sign-out, revocation and password change until its exp (10 min).

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ LATCHKEY_MODE: 'token' });
});
afterAll(() => server.dispose());

/** Signs up a new user, or (given an email) signs that user in on another device. */
async function signedIn(existing?: string) {
  const agent = new Agent(server.url);
  const email = existing ?? uniqueEmail('bearer');
  const reply = await agent.request('POST', existing ? '/auth/login' : '/auth/register', {
    json: { email, password: GOOD_PASSWORD },
  });
  expect(reply.status).toBeLessThan(300);
  const token = reply.json.accessToken as string;
  const bearer = (method: string, path: string, json?: unknown) =>
    agent.request(method, path, {
      ...(json === undefined ? {} : { json }),
      headers: { authorization: `Bearer ${token}` },
    });
  return { agent, email, token, bearer };
}

describe('a bearer token dies with its session', () => {
  it('after logout', async () => {
    const { agent, bearer } = await signedIn();
    expect((await bearer('GET', '/api/notes')).status).toBe(200);
    expect((await agent.request('POST', '/auth/logout')).status).toBe(204);
    const after = await bearer('GET', '/api/notes');
    expect(after.status).toBe(401);
    expect(after.json.error.code).toBe('unauthenticated');
    expect((await bearer('GET', '/auth/session')).status).toBe(401);
  });

  it('after the session is revoked from another device', async () => {
    const phone = await signedIn();
    const laptop = await signedIn(phone.email);
    const sid = JSON.parse(Buffer.from(phone.token.split('.')[1] ?? '', 'base64url').toString())
      .sid as string;
    expect((await laptop.bearer('DELETE', `/auth/sessions/${sid}`)).status).toBe(204);
    expect((await phone.bearer('GET', '/api/notes')).status).toBe(401);
    expect((await laptop.bearer('GET', '/api/notes')).status).toBe(200);
  });

  it('after a password change on another device', async () => {
    const phone = await signedIn();
    const laptop = await signedIn(phone.email);
    const change = await laptop.bearer('POST', '/auth/password', {
      currentPassword: GOOD_PASSWORD,
      newPassword: 'a different long passphrase for this test',
    });
    expect(change.status).toBe(204);
    expect((await phone.bearer('GET', '/api/notes')).status).toBe(401);
    // The laptop's old family was replaced too: its token goes, its new refresh works.
    expect((await laptop.bearer('GET', '/api/notes')).status).toBe(401);
    expect((await laptop.agent.request('POST', '/auth/refresh')).status).toBe(200);
  });

  it('after "sign out everywhere else", only the caller keeps working', async () => {
    const phone = await signedIn();
    const laptop = await signedIn(phone.email);
    expect((await laptop.bearer('DELETE', '/auth/sessions')).status).toBe(204);
    expect((await phone.bearer('GET', '/api/notes')).status).toBe(401);
    expect((await laptop.bearer('GET', '/api/notes')).status).toBe(200);
  });
});
