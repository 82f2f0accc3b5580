import { describe, expect, it } from 'vitest';
import { DEFAULT_MAIL_TEMPLATES, escapeHtml } from './mail.js';

describe('mail templates', () => {
  const values = {
    email: 'ada@example.com',
    name: '<script>alert("x")</script> & Co',
    link: 'https://app.example/reset#token=abc"><img src=x>',
    validMinutes: 30,
    siteName: 'Notes',
  };

  it('HTML-escapes every value in the HTML body; the text body is plain', () => {
    for (const template of [DEFAULT_MAIL_TEMPLATES.reset, DEFAULT_MAIL_TEMPLATES.verify]) {
      const message = template(values);
      expect(message.html).not.toContain('<script>');
      expect(message.html).not.toContain('"><img');
      expect(message.html).toContain(escapeHtml(values.name));
      expect(message.html).toContain(`href="${escapeHtml(values.link)}"`);
      expect(message.text).toContain(values.link);
    }
  });

  it('says how long the link works', () => {
    expect(DEFAULT_MAIL_TEMPLATES.reset(values).text).toContain('within 30 minutes');
    expect(DEFAULT_MAIL_TEMPLATES.verify({ ...values, validMinutes: 1440 }).text).toContain(
      'within 24 hours',
    );
    expect(DEFAULT_MAIL_TEMPLATES.reset(values).subject).toBe('Reset your Notes password');
  });
});
