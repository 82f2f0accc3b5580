import { readFile } from 'node:fs/promises';
import { simpleParser } from 'mailparser';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  GOOD_PASSWORD,
  registered,
  startTestServer,
  uniqueEmail,
  type TestServer,
} from './harness.js';
import { linkToken, startMailSink, type MailSink } from './smtp.js';

/*
 * Password reset and email verification over a real SMTP peer (smtp-server on loopback),
 * against the real reference server on SQLite: the links are read from the mail received.
 */

const NEW_PASSWORD = 'a brand new violet teapot orbiting slowly';

/** Waits until an event matching `match` has been logged (no time limit but the test's). */
async function eventLogged(
  app: TestServer,
  match: (event: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (;;) {
    const found = (app.events as unknown as Record<string, unknown>[]).find(match);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const forgot = (agent: Agent, email: string, headers: Record<string, string> = {}) =>
  agent.request('POST', '/auth/password/forgot', { json: { email }, headers });

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

describe('recovery over SMTP', () => {
  let sink: MailSink;
  let app: TestServer;

  beforeAll(async () => {
    sink = await startMailSink();
    app = await startTestServer({ LATCHKEY_SMTP_URL: sink.url, LATCHKEY_TRUSTED_PROXIES: '1' });
  });
  afterAll(async () => {
    await app.dispose();
    await sink.close();
  });

  it('forgot → mail → reset: every old session ends, the new password works, the old one does not', async () => {
    const { agent, email } = await registered(app.url);
    const other = new Agent(app.url);
    expect(
      (await other.request('POST', '/auth/login', { json: { email, password: GOOD_PASSWORD } }))
        .status,
    ).toBe(200);

    const asked = await forgot(new Agent(app.url), email);
    expect(asked.status).toBe(202);
    expect(asked.text).toBe('');
    const mail = await sink.next(email, 0).then(async () => {
      // The sign-up's verification mail may come first: wait for the reset one.
      for (;;) {
        const reset = sink.to(email).find((m) => m.subject?.includes('Reset'));
        if (reset) return reset;
        await sink.next(email, sink.to(email).length);
      }
    });
    expect(mail.from?.value).toEqual([{ name: 'Latchkey', address: 'no-reply@localhost' }]);
    const { link, token } = linkToken(mail, 'reset');
    expect(link).toBe(`${app.url}/reset#token=${token}`);
    // The HTML body has the same link, escaped, and nothing unescaped from the values.
    expect(mail.html).toContain(`href="${app.url}/reset#token=${token}"`);

    const reset = await new Agent(app.url).request('POST', '/auth/password/reset', {
      json: { token, newPassword: NEW_PASSWORD },
    });
    expect(reset.status).toBe(204);
    expect(reset.setCookies).toEqual([]); // no session is started

    expect((await agent.request('GET', '/auth/session')).status).toBe(401);
    expect((await other.request('GET', '/auth/session')).status).toBe(401);
    const old = await new Agent(app.url).request('POST', '/auth/login', {
      json: { email, password: GOOD_PASSWORD },
    });
    expect(old.status).toBe(401);
    const fresh = new Agent(app.url);
    const signIn = await fresh.request('POST', '/auth/login', {
      json: { email, password: NEW_PASSWORD },
    });
    expect(signIn.status).toBe(200);
    // The link proved the mailbox: the address counts as verified now.
    expect(signIn.json.user.emailVerified).toBe(true);

    // The same link twice: refused.
    const again = await new Agent(app.url).request('POST', '/auth/password/reset', {
      json: { token, newPassword: 'yet another quite long passphrase here' },
    });
    expect(again.status).toBe(400);
    expect(again.json.error.code).toBe('invalid_token');

    const event = app.events.find((e) => e.event === 'password_reset');
    expect(event).toMatchObject({ event: 'password_reset', revoked: 2 });
    expect(JSON.stringify(app.events)).not.toContain(token);
  });

  it('a GET and a HEAD of the link (a scanner) leave the token usable; the page is the SPA', async () => {
    const { email } = await registered(app.url);
    await forgot(new Agent(app.url), email);
    const mail = await (async () => {
      for (;;) {
        const found = sink.to(email).find((m) => m.subject?.includes('Reset'));
        if (found) return found;
        await sink.next(email, sink.to(email).length);
      }
    })();
    const { link, token } = linkToken(mail, 'reset');
    const get = await fetch(link);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toMatch(/text\/html/);
    expect(await get.text()).toContain('<div id="root">');
    const head = await fetch(link, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const verifyPage = await fetch(`${app.url}/verify#token=${token}`);
    expect(verifyPage.status).toBe(200);

    const reset = await new Agent(app.url).request('POST', '/auth/password/reset', {
      json: { token, newPassword: NEW_PASSWORD },
    });
    expect(reset.status).toBe(204);
  });

  it('only the newest link works; a weak password leaves the link usable', async () => {
    const { email } = await registered(app.url);
    const resets = () => sink.to(email).filter((m) => m.subject?.includes('Reset'));
    const waitResets = async (n: number) => {
      while (resets().length < n) await sink.next(email, sink.to(email).length);
      return resets();
    };
    await forgot(new Agent(app.url), email);
    const [first] = await waitResets(1);
    await forgot(new Agent(app.url), email);
    const [, second] = await waitResets(2);
    const older = linkToken(first!, 'reset').token;
    const newer = linkToken(second!, 'reset').token;

    const stale = await new Agent(app.url).request('POST', '/auth/password/reset', {
      json: { token: older, newPassword: NEW_PASSWORD },
    });
    expect(stale.json.error.code).toBe('invalid_token');
    const weak = await new Agent(app.url).request('POST', '/auth/password/reset', {
      json: { token: newer, newPassword: 'password' },
    });
    expect(weak.status).toBe(422);
    expect(weak.json.error.code).toBe('weak_password');
    const good = await new Agent(app.url).request('POST', '/auth/password/reset', {
      json: { token: newer, newPassword: NEW_PASSWORD },
    });
    expect(good.status).toBe(204);
  });

  it('an unknown email gets the same answer and no mail (timings reported, not asserted)', async () => {
    const N = 25;
    const known: string[] = [];
    for (let i = 0; i <= N; i++) known.push((await registered(app.url)).email);
    const unknownEmail = uniqueEmail('nobody');
    const a = await forgot(new Agent(app.url), unknownEmail, { 'x-forwarded-for': '198.51.100.1' });
    const b = await forgot(new Agent(app.url), known[0]!, { 'x-forwarded-for': '198.51.100.2' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.text).toBe(b.text);
    expect([...a.headers.keys()].sort()).toEqual([...b.headers.keys()].sort());

    // Timing: N requests each, interleaved, each for an address asked about once and from
    // a client address of its own (so every request counts on fresh limiter keys).
    const times = { known: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < N; i++) {
      for (const kind of ['known', 'unknown'] as const) {
        const email = kind === 'known' ? known[1 + i]! : uniqueEmail('nobody');
        const started = performance.now();
        const reply = await forgot(new Agent(app.url), email, {
          'x-forwarded-for': `203.0.113.${i * 2 + (kind === 'known' ? 0 : 1)}`,
        });
        times[kind].push(performance.now() - started);
        expect(reply.status).toBe(202);
      }
    }
    console.log(
      `forgot timing over ${N} requests each: known median ${median(times.known).toFixed(2)} ms, unknown median ${median(times.unknown).toFixed(2)} ms`,
    );

    // Every known address got its mail; by then the unknown one (asked first) would have too.
    for (const email of known) {
      while (!sink.to(email).some((m) => m.subject?.includes('Reset'))) {
        await sink.next(email, sink.to(email).length);
      }
    }
    expect(sink.messages.some((m) => m.to && JSON.stringify(m.to).includes('nobody'))).toBe(false);
  });

  it('limits requests per email (known or not): 429 with Retry-After', async () => {
    const email = uniqueEmail('nobody');
    for (let i = 0; i < 5; i++) {
      const ok = await forgot(new Agent(app.url), email, { 'x-forwarded-for': `192.0.2.${i}` });
      expect(ok.status).toBe(202);
    }
    const limited = await forgot(new Agent(app.url), email, { 'x-forwarded-for': '192.0.2.99' });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('with TOTP on, the reset needs a code; without one the link stays usable', async () => {
    const { agent, email } = await registered(app.url);
    const begun = await agent.unsafe('POST', '/auth/mfa/totp');
    expect(begun.status).toBe(200);
    const totp = (at: number) =>
      TOTP.generate({
        secret: Secret.fromBase32(begun.json.secret),
        algorithm: 'SHA1',
        digits: 6,
        period: 30,
        timestamp: at,
      });
    const confirmed = await agent.unsafe('POST', '/auth/mfa/totp/confirm', {
      code: totp(Date.now()),
    });
    expect(confirmed.status).toBe(200);
    const [recoveryCode] = confirmed.json.recoveryCodes as string[];

    await forgot(new Agent(app.url), email);
    let mail;
    while (!(mail = sink.to(email).find((m) => m.subject?.includes('Reset')))) {
      await sink.next(email, sink.to(email).length);
    }
    const { token } = linkToken(mail, 'reset');
    const post = (body: object) =>
      new Agent(app.url).request('POST', '/auth/password/reset', {
        json: { token, newPassword: NEW_PASSWORD, ...body },
      });

    const missing = await post({});
    expect(missing.status).toBe(400);
    expect(missing.json.error.code).toBe('invalid_request');
    expect(missing.json.error.message).toMatch(/authenticator app or a recovery code/);
    const wrong = await post({ code: '000000' === totp(Date.now()) ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error.code).toBe('invalid_token');
    // Still the old password: nothing changed yet.
    expect((await agent.request('GET', '/auth/session')).status).toBe(200);

    const done = await post({ recoveryCode });
    expect(done.status).toBe(204);
    expect((await agent.request('GET', '/auth/session')).status).toBe(401);
    const signIn = await new Agent(app.url).request('POST', '/auth/login', {
      json: { email, password: NEW_PASSWORD },
    });
    // The password changed; the second factor is still asked for at sign-in.
    expect(signIn.status).not.toBe(401);
  });

  it('email verification: mailed at sign-up, on request, single use', async () => {
    const { agent, email, user } = await registered(app.url);
    expect(user.emailVerified).toBe(false);
    const welcome = await sink.next(email, 0);
    expect(welcome.subject).toContain('Verify');
    const { link, token } = linkToken(welcome, 'verify');
    expect(link).toBe(`${app.url}/verify#token=${token}`);

    const sent = await agent.unsafe('POST', '/auth/email/verify/send');
    expect(sent.status).toBe(202);
    const second = await sink.next(email, 1);
    expect(linkToken(second, 'verify').token).not.toBe(token);

    const verified = await new Agent(app.url).request('POST', '/auth/email/verify', {
      json: { token },
    });
    expect(verified.status).toBe(204);
    expect((await agent.request('GET', '/auth/session')).json.user.emailVerified).toBe(true);
    const twice = await new Agent(app.url).request('POST', '/auth/email/verify', {
      json: { token },
    });
    expect(twice.status).toBe(400);
    expect(twice.json.error.code).toBe('invalid_token');
    // The other link of the account died with the verification.
    const other = await new Agent(app.url).request('POST', '/auth/email/verify', {
      json: { token: linkToken(second, 'verify').token },
    });
    expect(other.json.error.code).toBe('invalid_token');

    // Signed out: 401; over the per-account limit: 429.
    expect((await new Agent(app.url).request('POST', '/auth/email/verify/send')).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await agent.unsafe('POST', '/auth/email/verify/send')).status);
    expect(statuses).toEqual([202, 202, 202, 202, 429]);
  });

  it('mail server down: the user still gets 202, the failure is logged without the token, a retry delivers', async () => {
    const { email } = await registered(app.url);
    await sink.next(email, 0); // the sign-up's verification mail, before the outage
    await sink.stop();
    try {
      const asked = await forgot(new Agent(app.url), email);
      expect(asked.status).toBe(202);
      const failed = await eventLogged(
        app,
        (e) => e.event === 'mail_failed' && e.purpose === 'reset' && e.retry === true,
      );
      expect(failed.error).toMatch(/^E[A-Z]+/);
    } finally {
      await sink.start();
    }
    const mail = await sink.next(email, 1);
    const { token } = linkToken(mail, 'reset');
    await eventLogged(app, (e) => e.event === 'mail_sent' && e.purpose === 'reset');
    const failures = app.events.filter((e) => e.event === 'mail_failed');
    console.log(
      `SMTP outage: ${failures.length} failed attempt(s) logged (${failures.map((e) => (e as { error?: string }).error).join(', ')}), then delivered`,
    );
    expect(JSON.stringify(app.events)).not.toContain(token);
    expect(JSON.stringify(app.events)).not.toContain(email);
    const reset = await new Agent(app.url).request('POST', '/auth/password/reset', {
      json: { token, newPassword: NEW_PASSWORD },
    });
    expect(reset.status).toBe(204);
  });
});

describe('recovery without an SMTP server (development)', () => {
  it('writes each message to <data dir>/mail/ and logs its path, never the link', async () => {
    await using app = await startTestServer();
    const { email } = await registered(app.url);
    await forgot(new Agent(app.url), email);
    const written = await eventLogged(
      app,
      (e) => e.event === 'mail_written' && e.purpose === 'reset',
    );
    const path = written.path as string;
    expect(path.startsWith(`${app.dataDir}/mail/`)).toBe(true);
    expect(path.endsWith('.eml')).toBe(true);
    const { token, link } = linkToken(await simpleParser(await readFile(path)), 'reset');
    expect(link).toBe(`${app.url}/reset#token=${token}`);
    expect(JSON.stringify(app.events)).not.toContain(token);
    const reset = await new Agent(app.url).request('POST', '/auth/password/reset', {
      json: { token, newPassword: NEW_PASSWORD },
    });
    expect(reset.status).toBe(204);
  });
});

describe('recovery in token mode', () => {
  it('a reset ends the refresh family and the access token dies with it', async () => {
    const started = await startMailSink();
    await using sink = Object.assign(started, {
      [Symbol.asyncDispose]: () => started.close(),
    });
    await using app = await startTestServer({
      LATCHKEY_MODE: 'token',
      LATCHKEY_SMTP_URL: sink.url,
    });
    const { agent, email } = await registered(app.url);
    const signUp = await agent.request('POST', '/auth/refresh');
    expect(signUp.status).toBe(200);
    const bearer = { authorization: `Bearer ${signUp.json.accessToken as string}` };
    expect((await agent.request('GET', '/api/notes', { headers: bearer })).status).toBe(200);

    expect((await forgot(new Agent(app.url), email)).status).toBe(202);
    let mail;
    while (!(mail = sink.to(email).find((m) => m.subject?.includes('Reset')))) {
      await sink.next(email, sink.to(email).length);
    }
    const { token } = linkToken(mail, 'reset');
    const reset = await new Agent(app.url).request('POST', '/auth/password/reset', {
      json: { token, newPassword: NEW_PASSWORD },
    });
    expect(reset.status).toBe(204);

    expect((await agent.request('GET', '/api/notes', { headers: bearer })).status).toBe(401);
    expect((await agent.request('POST', '/auth/refresh')).status).toBe(401);
  });
});
