/**
 * Mail, as the core sees it: a message to hand to whatever sends it. The core has no
 * SMTP client: the app passes a `Mailer` (`@latchkey/cli/mail` is one, over nodemailer)
 * and the core only builds the message from a template and hands it off after the
 * HTTP answer has gone.
 */

/** One message: the address, the subject and both bodies. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** What the message is for (`reset`, `verify`): for logs, never the link. */
  purpose?: string;
}

/**
 * Sends (or queues) a message. Resolves once the message is accepted for delivery
 * (queued is enough); rejects only when it cannot even be accepted. Retrying is the
 * mailer's business. Never called while an HTTP answer waits.
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

/** What a template may use. `link` carries a secret token: never log it. */
export interface MailValues {
  /** The recipient's address. */
  email: string;
  /** The recipient's name, if they gave one. */
  name: string | null;
  /** `<publicUrl>/reset#token=…` or `<publicUrl>/verify#token=…`. */
  link: string;
  /** How long the link works, in whole minutes. */
  validMinutes: number;
  /** The site's name (`password.siteName`). */
  siteName: string;
}

/** Builds one kind of message. HTML-escape every value put into `html` (`escapeHtml`). */
export type MailTemplate = (values: MailValues) => {
  subject: string;
  text: string;
  html: string;
};

export interface MailTemplates {
  /** The password-reset link. */
  reset: MailTemplate;
  /** The email-verification link (sent at sign-up and on request). */
  verify: MailTemplate;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `value` safe inside HTML text and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const wait = (minutes: number) =>
  minutes % 60 === 0 ? `${minutes / 60} hour${minutes === 60 ? '' : 's'}` : `${minutes} minutes`;

function page(values: MailValues, lines: string[], button: string): string {
  const hello = values.name ? `Hello ${escapeHtml(values.name)},` : 'Hello,';
  const paragraphs = lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n');
  const link = escapeHtml(values.link);
  return `<!doctype html>
<html><body style="font-family: system-ui, sans-serif; line-height: 1.5">
<p>${hello}</p>
${paragraphs}
<p><a href="${link}" style="display: inline-block; padding: 0.5em 1em; background: #1d4ed8; color: #fff; text-decoration: none; border-radius: 6px">${escapeHtml(button)}</a></p>
<p style="color: #555; font-size: 0.9em">Or paste this address into your browser: ${link}</p>
</body></html>`;
}

/** The templates used unless the app passes its own. */
export const DEFAULT_MAIL_TEMPLATES: MailTemplates = {
  reset(values) {
    const lines = [
      `Someone asked to reset the password of your ${values.siteName} account (${values.email}).`,
      `If it was you, open the link below within ${wait(values.validMinutes)} and choose a new password. It works once; every device signed in to your account will be signed out.`,
      'If it was not you, ignore this message: your password stays as it is.',
    ];
    return {
      subject: `Reset your ${values.siteName} password`,
      text: `${values.name ? `Hello ${values.name},` : 'Hello,'}\n\n${lines[0]}\n\n${lines[1]}\n\n${values.link}\n\n${lines[2]}\n`,
      html: page(values, lines, 'Choose a new password'),
    };
  },
  verify(values) {
    const lines = [
      `Please confirm that ${values.email} is your address for your ${values.siteName} account.`,
      `Open the link below within ${wait(values.validMinutes)} and press “Verify email”.`,
      'If you did not create this account, ignore this message.',
    ];
    return {
      subject: `Verify your email for ${values.siteName}`,
      text: `${values.name ? `Hello ${values.name},` : 'Hello,'}\n\n${lines[0]}\n\n${lines[1]}\n\n${values.link}\n\n${lines[2]}\n`,
      html: page(values, lines, 'Verify email'),
    };
  },
};
