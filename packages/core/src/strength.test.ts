import { describe, expect, it } from 'vitest';
import { assessPassword } from './strength.js';

const user = { email: 'ada.lovelace@example.com', name: 'Ada Lovelace' };

describe('assessPassword', () => {
  it('accepts long passphrases of unrelated words', async () => {
    expect(await assessPassword('correct horse battery staple', user)).toMatchObject({ ok: true });
    expect(await assessPassword('trombone velvet orbit fifty-seven', user)).toMatchObject({
      ok: true,
    });
  });

  // The security review's examples: each is at least 15 characters, so a length rule alone let them in.
  it.each([
    'aaaaaaaaaaaaaaa',
    '123456789012345',
    'Password1234567',
    'qwertyuiopasdfghjkl',
    'passwordpassword123',
    'lovelacelovelace1',
    'adalovelace12345',
  ])('refuses %j with a reason in plain words', async (password) => {
    const verdict = await assessPassword(password, user);
    expect(verdict).toMatchObject({ ok: false, problem: 'weak' });
    if (!verdict.ok) {
      expect(verdict.score).toBeLessThan(3);
      expect(verdict.message).toMatch(/^This password is too easy to guess\. \S/);
    }
  });

  it('names the pattern it found', async () => {
    const verdict = await assessPassword('aaaaaaaaaaaaaaa', user);
    expect(!verdict.ok && verdict.message).toContain('Repeated characters');
  });

  it('treats the email, the name and the site name as the first words an attacker tries', async () => {
    const site = 'Quillborough';
    expect(await assessPassword('Quillborough2024!', { ...user, siteName: site })).toMatchObject({
      ok: false,
      problem: 'weak',
    });
    expect(await assessPassword('Quillborough2024!', user)).toMatchObject({ ok: true });
    expect(await assessPassword('adalovelace12345', { email: 'x@example.com' })).toMatchObject({
      ok: true,
    });
  });

  it("refuses a password containing the email's local part", async () => {
    expect(await assessPassword('my name is Ada.Lovelace ok', user)).toMatchObject({
      ok: false,
      problem: 'contains_email',
    });
  });

  it('counts characters, not bytes, for both length bounds', async () => {
    expect(await assessPassword('😀'.repeat(14), user)).toMatchObject({
      ok: false,
      problem: 'too_short',
    });
    expect(await assessPassword('a'.repeat(14), user)).toMatchObject({
      ok: false,
      problem: 'too_short',
    });
    expect(await assessPassword('ab'.repeat(65), user)).toMatchObject({
      ok: false,
      problem: 'too_long',
    });
    expect(await assessPassword('kürbis öl ünïcødé pässwørd', user)).toMatchObject({ ok: true });
  });

  it('takes the minimum score as an option', async () => {
    expect(await assessPassword('Password1234567', { ...user, minScore: 0 })).toMatchObject({
      ok: true,
    });
  });
});
