import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  GOOD_PASSWORD,
  registered,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from './harness.js';

const DEVICE = '__Host-Http-device';
const SESSION = '__Host-Http-session';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ LATCHKEY_LOGIN_LIMIT: '3' });
});
afterAll(() => server.dispose());

const login = (agent: Agent, email: string, password: string) =>
  agent.request('POST', '/auth/login', { json: { email, password } });

/** A browser that signed in to the account once, then signed out: it keeps its device cookie. */
async function ownersBrowser(email: string) {
  const browser = new Agent(server.url);
  expect((await login(browser, email, GOOD_PASSWORD)).status).toBe(200);
  expect(browser.cookies.get(DEVICE)).toBeTruthy();
  expect((await browser.unsafe('POST', '/auth/logout')).status).toBe(204);
  expect(browser.cookies.has(SESSION)).toBe(false);
  expect(browser.cookies.has(DEVICE)).toBe(true);
  browser.csrfToken = null;
  return browser;
}

describe('lockout cannot be used against the owner (device cookies)', () => {
  it('a stranger hammering the account locks out strangers only', async () => {
    const { email } = await registered(server.url);
    const owner = await ownersBrowser(email);
    for (let i = 0; i < 3; i++) {
      expect((await login(new Agent(server.url), email, `wrong guess ${i}`)).status).toBe(401);
    }
    // Locked for every browser that does not hold the account's device cookie,
    // even with the right password.
    const stranger = await login(new Agent(server.url), email, 'wrong guess again');
    expect(stranger.status).toBe(429);
    expect(Number(stranger.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login(new Agent(server.url), email, GOOD_PASSWORD)).status).toBe(429);
    expect(server.events).toContainEqual(
      expect.objectContaining({ event: 'login_locked', scope: 'account' }),
    );
    // The owner's browser still signs in.
    const reply = await login(owner, email, GOOD_PASSWORD);
    expect(reply.status).toBe(200);
    expect(reply.json.user.email).toBe(email);
  });

  it("a known device's own failures lock that device only", async () => {
    const { email } = await registered(server.url);
    const clumsy = await ownersBrowser(email);
    const other = await ownersBrowser(email);
    for (let i = 0; i < 3; i++) expect((await login(clumsy, email, `typo ${i}`)).status).toBe(401);
    expect((await login(clumsy, email, GOOD_PASSWORD)).status).toBe(429);
    expect(server.events).toContainEqual(
      expect.objectContaining({ event: 'login_locked', scope: 'device' }),
    );
    // Its failures did not count against the account: strangers and other devices are unaffected.
    expect((await login(other, email, GOOD_PASSWORD)).status).toBe(200);
    expect((await login(new Agent(server.url), email, GOOD_PASSWORD)).status).toBe(200);
  });

  it("another account's device cookie, or a forged one, makes a browser a stranger", async () => {
    const victim = await registered(server.url);
    const attacker = await registered(server.url);
    const forged = new Agent(server.url);
    const genuine = attacker.agent.cookies.get(DEVICE) ?? '';
    forged.cookies.set(DEVICE, genuine.replace(/\.[^.]+$/, `.${'A'.repeat(43)}`));
    for (let i = 0; i < 3; i++) {
      expect((await login(attacker.agent, victim.email, `guess ${i}`)).status).toBe(401);
    }
    expect((await login(attacker.agent, victim.email, `guess 4`)).status).toBe(429);
    expect((await login(forged, victim.email, `guess 5`)).status).toBe(429);
  });
});

describe('sign-up flood', () => {
  it('registrations are limited per address per hour (LATCHKEY_REGISTER_LIMIT)', async () => {
    await using limited = await startTestServer({ LATCHKEY_REGISTER_LIMIT: '3' });
    const taken = uniqueEmail();
    const attempts = [taken, taken, uniqueEmail(), uniqueEmail()];
    const statuses: number[] = [];
    let last;
    for (const email of attempts) {
      last = await new Agent(limited.url).request('POST', '/auth/register', {
        json: { email, password: GOOD_PASSWORD },
      });
      statuses.push(last.status);
    }
    // Probing a taken email counts like any other sign-up.
    expect(statuses).toEqual([201, 409, 201, 429]);
    expect(last?.json.error.code).toBe('rate_limited');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.events).toContainEqual(expect.objectContaining({ event: 'register_limited' }));
    // Sign-in is a separate budget.
    expect((await login(new Agent(limited.url), taken, GOOD_PASSWORD)).status).toBe(200);
  });
});

describe('password strength (zxcvbn score ≥ 3)', () => {
  it.each(['aaaaaaaaaaaaaaa', '123456789012345', 'Password1234567', 'qwertyuiopasdfghjkl'])(
    'refuses %j with 422 weak_password and a reason',
    async (password) => {
      const reply = await new Agent(server.url).request('POST', '/auth/register', {
        json: { email: uniqueEmail(), password },
      });
      expect(reply.status).toBe(422);
      expect(reply.json.error.code).toBe('weak_password');
      expect(reply.json.error.message).toMatch(/^This password is too easy to guess\. \S/);
      expect(reply.json.error.message).not.toContain(password);
    },
  );

  it('refuses a password built from the name or the site name', async () => {
    for (const [name, password] of [
      ['Grace Hopper', 'gracehopper1906!'],
      [null, 'latchkey12345678'],
    ] as const) {
      const reply = await new Agent(server.url).request('POST', '/auth/register', {
        json: { email: uniqueEmail(), password, name },
      });
      expect(reply.status, password).toBe(422);
    }
  });

  it('applies to a password change too', async () => {
    const { agent } = await registered(server.url);
    const reply = await agent.unsafe('POST', '/auth/password', {
      currentPassword: GOOD_PASSWORD,
      newPassword: 'passwordpassword123',
    });
    expect(reply.status).toBe(422);
    expect(reply.json.error.code).toBe('weak_password');
  });
});

describe('answers about a user are never cached', () => {
  it('an authenticated API answer that sets no Cache-Control gets no-store', async () => {
    const { agent } = await registered(server.url);
    const reply = await agent.request('GET', '/api/notes');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
  });
});
