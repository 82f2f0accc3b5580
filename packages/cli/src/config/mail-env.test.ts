import { describe, expect, it } from 'vitest';
import { readEnv } from './env.js';

const SECRET = { LATCHKEY_SECRET: 'x'.repeat(32) };

describe('LATCHKEY_SMTP_URL and LATCHKEY_MAIL_FROM', () => {
  it('defaults: no mail server (files in the data dir), the documented sender', () => {
    const settings = readEnv(SECRET);
    expect(settings.smtpUrl).toBeNull();
    expect(settings.mailFrom).toBe('Latchkey <no-reply@localhost>');
  });

  it('takes smtp:// and smtps:// URLs and a sender', () => {
    const settings = readEnv({
      ...SECRET,
      LATCHKEY_SMTP_URL: 'smtps://user:pw@mail.example.com:465',
      LATCHKEY_MAIL_FROM: 'Notes <notes@example.com>',
    });
    expect(settings.smtpUrl).toBe('smtps://user:pw@mail.example.com:465');
    expect(settings.mailFrom).toBe('Notes <notes@example.com>');
    expect(readEnv({ ...SECRET, LATCHKEY_SMTP_URL: 'smtp://relay:587' }).smtpUrl).toBe(
      'smtp://relay:587',
    );
  });

  it('refuses to start in production without a mail server', () => {
    expect(() => readEnv({ ...SECRET, NODE_ENV: 'production' })).toThrow(
      /^LATCHKEY_SMTP_URL: required when NODE_ENV=production/,
    );
    expect(
      readEnv({ ...SECRET, NODE_ENV: 'production', LATCHKEY_SMTP_URL: 'smtps://mail:465' })
        .production,
    ).toBe(true);
  });

  it.each([
    [
      { LATCHKEY_SMTP_URL: 'http://user:secret@mail.example.com' },
      /^LATCHKEY_SMTP_URL: expected smtp/,
    ],
    [{ LATCHKEY_SMTP_URL: 'not a url secret' }, /^LATCHKEY_SMTP_URL: expected a URL/],
    [{ LATCHKEY_MAIL_FROM: 'a@b\r\nBcc: x@y' }, /^LATCHKEY_MAIL_FROM: expected one address/],
  ])('refuses %j in one line that never repeats the URL', (env, message) => {
    let error: unknown;
    try {
      readEnv({ ...SECRET, ...env });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('secret');
    expect((error as Error).message).not.toContain('\n');
  });
});
