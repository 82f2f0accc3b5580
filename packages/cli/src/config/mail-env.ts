import { ConfigError } from '@latchkey/core';

/** Where reset and verification mail goes, from the environment (API.md). */
export interface MailFromEnv {
  /**
   * `smtp://` (STARTTLS) or `smtps://` (TLS from the first byte) URL of the mail server
   * (LATCHKEY_SMTP_URL); null: outside production only, each message is written to
   * `<data dir>/mail/` as an `.eml` file.
   */
  smtpUrl: string | null;
  /** The sender (LATCHKEY_MAIL_FROM). */
  mailFrom: string;
}

export const DEFAULT_MAIL_FROM = 'Latchkey <no-reply@localhost>';

/**
 * Reads LATCHKEY_SMTP_URL and LATCHKEY_MAIL_FROM. In production a mail server is
 * required: without one a person locked out of their account could never get back in,
 * and the reset page would say "check your email" for mail that never leaves the
 * machine, so the server refuses to start rather than fail the first person who needs
 * it. Error messages never repeat the URL (it may carry a password).
 */
export function mailFromEnv(
  env: Record<string, string | undefined>,
  production: boolean,
): MailFromEnv {
  const raw = env.LATCHKEY_SMTP_URL?.trim() || null;
  if (raw) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError('LATCHKEY_SMTP_URL: expected a URL like smtps://user:pass@host:465');
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
      throw new ConfigError(
        `LATCHKEY_SMTP_URL: expected smtp:// (STARTTLS) or smtps:// (TLS), got ${url.protocol}//`,
      );
    }
    if (!url.hostname) throw new ConfigError('LATCHKEY_SMTP_URL: the URL names no host');
  } else if (production) {
    throw new ConfigError(
      'LATCHKEY_SMTP_URL: required when NODE_ENV=production (password reset and email verification mail), e.g. smtps://user:pass@mail.example.com:465',
    );
  }
  const mailFrom = env.LATCHKEY_MAIL_FROM?.trim() || DEFAULT_MAIL_FROM;
  if (/[\r\n]/.test(mailFrom) || mailFrom.length > 320 || !mailFrom.includes('@')) {
    throw new ConfigError(
      'LATCHKEY_MAIL_FROM: expected one address, like "Latchkey <no-reply@example.com>"',
    );
  }
  return { smtpUrl: raw, mailFrom };
}
