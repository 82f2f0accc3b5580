import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMailer } from '@latchkey/cli/mail';
import { createLatchkey, type SecurityEvent } from '@latchkey/core';
import { createSqliteStore } from '@latchkey/store-sqlite';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkToken, startMailSink, type MailSink } from '../../../apps/reference/test/smtp.js';

const PUBLIC_URL = 'http://app.test';
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new violet teapot orbiting slowly';

type Logged = SecurityEvent & { time: string };

describe('createMailer', () => {
  let sink: MailSink;
  beforeAll(async () => {
    sink = await startMailSink();
  });
  afterAll(() => sink.close());

  it('delivers over SMTP with the sender, subject and both bodies', async () => {
    const events: Logged[] = [];
    const mailer = createMailer({
      smtpUrl: sink.url,
      from: 'Notes <notes@example.com>',
      dataDir: '/nonexistent',
      logger: (e) => events.push(e),
    });
    await mailer.send({
      to: 'ada@example.com',
      subject: 'Hello',
      text: 'plain body',
      html: '<p>html body</p>',
      purpose: 'verify',
    });
    const mail = await sink.next('ada@example.com');
    expect(mail.from?.value).toEqual([{ name: 'Notes', address: 'notes@example.com' }]);
    expect(mail.subject).toBe('Hello');
    expect(mail.text?.trim()).toBe('plain body');
    expect(mail.html).toContain('<p>html body</p>');
    await mailer.close();
  });

  it('bounds its queue: past the limit send refuses, and the core logs it', async () => {
    await sink.stop();
    const events: Logged[] = [];
    const mailer = createMailer({
      smtpUrl: sink.url,
      from: 'Latchkey <no-reply@localhost>',
      dataDir: '/nonexistent',
      logger: (e) => events.push(e),
      queueLimit: 1,
    });
    const message = { to: 'q@example.com', subject: 's', text: 't', html: 'h', purpose: 'reset' };
    await mailer.send(message);
    await expect(mailer.send(message)).rejects.toMatchObject({ code: 'EQUEUEFULL' });
    expect(mailer.pending).toBe(1);
    await mailer.close();
    await sink.start();
  });

  it('does not retry a permanent refusal (5xx)', async () => {
    const refusing = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
      },
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const port = (refusing.server.address() as { port: number }).port;
    const events: Logged[] = [];
    const mailer = createMailer({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      from: 'Latchkey <no-reply@localhost>',
      dataDir: '/nonexistent',
      logger: (e) => events.push(e),
    });
    await mailer.send({
      to: 'gone@example.com',
      subject: 's',
      text: 't',
      html: 'h',
      purpose: 'reset',
    });
    while (mailer.pending > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const failed = events.filter((e) => e.event === 'mail_failed');
    expect(failed).toEqual([
      expect.objectContaining({ attempt: 1, retry: false, error: 'EENVELOPE_550' }),
    ]);
    expect(JSON.stringify(events)).not.toContain('gone@example.com');
    await mailer.close();
    await new Promise<void>((resolve) => refusing.close(() => resolve()));
  });
});

describe('recovery links expire (injected clock, SQLite, real SMTP)', () => {
  let sink: MailSink;
  let dir: string;
  beforeAll(async () => {
    sink = await startMailSink();
    dir = await mkdtemp(join(tmpdir(), 'latchkey-mail-'));
  });
  afterAll(async () => {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a reset link is refused after 30 minutes, a verification link after 24 hours', async () => {
    let now = Date.UTC(2026, 0, 1);
    const store = createSqliteStore({ filename: join(dir, 'latchkey.db') });
    const mailer = createMailer({ smtpUrl: sink.url, from: 'L <l@localhost>', dataDir: dir });
    const latchkey = createLatchkey({
      store,
      secrets: ['s'.repeat(40)],
      publicUrl: PUBLIC_URL,
      now: () => now,
      logger: () => undefined,
      mail: { mailer },
    });
    const post = (path: string, body: unknown) =>
      latchkey.handle(
        new Request(`${PUBLIC_URL}/auth${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: PUBLIC_URL },
          body: JSON.stringify(body),
        }),
      );
    const email = 'clock@example.com';
    expect((await post('/register', { email, password: PASSWORD })).status).toBe(201);
    const verify = linkToken(await sink.next(email, 0), 'verify').token;

    expect((await post('/password/forgot', { email })).status).toBe(202);
    const first = linkToken(await sink.next(email, 1), 'reset').token;
    now += 30 * 60_000; // exactly the lifetime: expired
    const late = await post('/password/reset', { token: first, newPassword: NEW_PASSWORD });
    expect(late.status).toBe(400);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('invalid_token');

    expect((await post('/password/forgot', { email })).status).toBe(202);
    const second = linkToken(await sink.next(email, 2), 'reset').token;
    now += 29 * 60_000; // within its 30 minutes
    expect(
      (await post('/password/reset', { token: second, newPassword: NEW_PASSWORD })).status,
    ).toBe(204);

    now = Date.UTC(2026, 0, 2) + 1; // the verification link was sent more than 24 hours ago
    const stale = await post('/email/verify', { token: verify });
    expect(stale.status).toBe(400);

    await mailer.close();
    await store.close();
  });
});
