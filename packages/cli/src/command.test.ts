import { describe, expect, it } from 'vitest';
import { parseOptions, type Command } from './command.js';

const revoke: Command = {
  name: 'sessions revoke',
  summary: 'test',
  synopsis: '--email EMAIL (--all | --id ID) [--json]',
  details: [],
  options: {
    email: { type: 'string', value: 'EMAIL', description: 'the account' },
    id: { type: 'string', value: 'ID', description: 'one session' },
    all: { type: 'boolean', description: 'every session' },
    json: { type: 'boolean', description: 'JSON output' },
  },
  usesConfig: true,
  run: () => Promise.resolve(0),
};

describe('parseOptions', () => {
  it('takes a value that starts with "-" (a base64url session id) after a string option', () => {
    expect(parseOptions(revoke, ['--email', 'a@example.com', '--id', '-Xb3_k9'])).toEqual({
      email: 'a@example.com',
      id: '-Xb3_k9',
    });
    expect(parseOptions(revoke, ['--id', '--Zq', '--json'])).toEqual({ id: '--Zq', json: true });
  });

  it('does not swallow the next option as a value', () => {
    expect(() => parseOptions(revoke, ['--id', '--json'])).toThrow(/--id needs a value/);
  });

  it('names an unknown option and the ones it takes', () => {
    expect(() => parseOptions(revoke, ['--emial', 'x'])).toThrow(
      /unknown option --emial; it takes --email, --id, --all, --json/,
    );
  });
});
