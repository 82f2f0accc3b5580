import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnv } from '../src/config/index.js';
import { DATABASE_URL, expectOneLineError, latchkey, REDIS_URL } from './helpers.js';

// The commands that need no store, the help at every level, and the usage and
// configuration errors: each a spawn of the real bin.

// Each case is its own process: they run side by side.
describe.concurrent('latchkey: help on every level', () => {
  it.each([
    [['--help'], /^Usage: latchkey <command>/],
    [['help'], /^Usage: latchkey <command>/],
    [['secret', '--help'], /^Usage: latchkey secret\n/],
    [['keys', '--help'], /^Usage: latchkey keys <command>[\s\S]*latchkey keys rotate/],
    [['keys', 'generate', '-h'], /^Usage: latchkey keys generate \[--alg EdDSA\|ES256\]/],
    [['keys', 'rotate', '--help'], /^Usage: latchkey keys rotate/],
    [['sessions', '--help'], /^Usage: latchkey sessions <command>[\s\S]*sessions revoke/],
    [['sessions', 'list', '--help'], /^Usage: latchkey sessions list --email EMAIL \[--json\]/],
    [['sessions', 'revoke', '--help'], /--all \| --id SESSION_ID[\s\S]*--id SESSION_ID/],
    [['users', '--help'], /^Usage: latchkey users <command>[\s\S]*users delete/],
    [['users', 'delete', '--help'], /^Usage: latchkey users delete --email EMAIL/],
    [['help', 'sessions', 'revoke'], /^Usage: latchkey sessions revoke/],
  ])('%j', async (args, pattern) => {
    const run = await latchkey(args);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(pattern);
  });

  it('--version prints the package version', async () => {
    const run = await latchkey(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: '0.1.0\n' });
  });
});

describe.concurrent('latchkey: usage errors are one line, exit 2, naming the fix', () => {
  it.each([
    [[], /missing command; one of secret, keys, sessions, users/],
    [['sesions'], /unknown command "sesions".*\(see: latchkey --help\)$/],
    [['sessions'], /^latchkey: sessions: missing command; one of list, revoke/],
    [['sessions', 'kill'], /unknown command "kill"; one of list, revoke/],
    [['sessions', 'list'], /sessions list: --email EMAIL is required/],
    [['sessions', 'list', '--emial', 'a@b.c'], /unknown option --emial; it takes --email, --json/],
    [['sessions', 'list', '--email'], /--email needs a value \(--email EMAIL\)/],
    [['sessions', 'list', '--email', 'ada'], /--email expects an email address/],
    [['sessions', 'list', '--json=yes', '--email', 'a@b.c'], /--json takes no value/],
    [['sessions', 'list', 'ada@example.com'], /unexpected argument "ada@example.com"/],
    [['sessions', 'revoke', '--email', 'a@b.c'], /say which sessions: --all, or --id SESSION_ID/],
    [['sessions', 'revoke', '--email', 'a@b.c', '--all', '--id', 'x'], /not both/],
    [['keys', 'generate', '--alg', 'HS256'], /--alg must be EdDSA or ES256/],
    [['secret', '--bytes', '8'], /unknown option --bytes/],
  ])('%j', async (args, pattern) => {
    const run = await latchkey(args);
    expectOneLineError(run, 2, pattern);
  });
});

describe('latchkey secret', () => {
  it('prints a new 256-bit base64url secret each time, accepted as LATCHKEY_SECRET', async () => {
    const [a, b] = await Promise.all([latchkey(['secret']), latchkey(['secret'])]);
    for (const run of [a, b]) {
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    }
    expect(a.stdout).not.toBe(b.stdout);
    expect(readEnv({ LATCHKEY_SECRET: a.stdout.trim() }).secrets).toEqual([a.stdout.trim()]);
  });
});

describe('latchkey keys', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-cli-keys-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('generate prints a one-line private JWK Set that LATCHKEY_SIGNING_KEYS accepts', async () => {
    const run = await latchkey(['keys', 'generate', '--alg', 'ES256']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const set = JSON.parse(run.stdout) as { keys: Record<string, string>[] };
    expect(set.keys).toEqual([
      expect.objectContaining({ alg: 'ES256', kty: 'EC', crv: 'P-256', d: expect.any(String) }),
    ]);
    const settings = readEnv({
      LATCHKEY_MODE: 'token',
      LATCHKEY_SECRET: 'x'.repeat(32),
      DATABASE_URL: 'postgres://db/app',
      LATCHKEY_SIGNING_KEYS: run.stdout,
    });
    expect(settings.signingKeys?.[0]?.kid).toBe(set.keys[0]?.kid);
  });

  it('rotate (what `npm run keys -- rotate` runs) keeps the keys in the data dir', async () => {
    const env = { LATCHKEY_DATA_DIR: dataDir, LATCHKEY_MODE: 'token' };
    const first = await latchkey(['keys', 'rotate'], env);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(
      /^New signing key \S+ in .*signing-keys\.json\. Restart the servers/,
    );

    const second = await latchkey(['keys', 'rotate', '--json'], env);
    expect(second.code).toBe(0);
    const change = JSON.parse(second.stdout) as { added: string; retired: string; file: string };
    expect(change.file).toBe(join(dataDir, 'signing-keys.json'));
    const stored = JSON.parse(await readFile(change.file, 'utf8')) as { keys: { kid: string }[] };
    expect(stored.keys.map((k) => k.kid)).toEqual([change.added, change.retired]);
  });

  it('rotate refuses, naming the fix, when the servers sign with LATCHKEY_SIGNING_KEYS', async () => {
    const keys = (await latchkey(['keys', 'generate'])).stdout;
    const run = await latchkey(['keys', 'rotate'], {
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_SIGNING_KEYS: keys,
    });
    expectOneLineError(run, 1, /LATCHKEY_SIGNING_KEYS is set.*latchkey keys generate/);
  });
});

describe.concurrent('latchkey: configuration the server would refuse, the CLI refuses too', () => {
  it.each([
    [
      { DATABASE_URL },
      /invalid configuration: LATCHKEY_SECRET: required with a shared store \(DATABASE_URL\).*npx latchkey secret$/,
    ],
    [
      { LATCHKEY_REDIS_URL: REDIS_URL, DATABASE_URL },
      /LATCHKEY_SECRET: required with a shared store \(LATCHKEY_REDIS_URL\)/,
    ],
    [{ NODE_ENV: 'production' }, /LATCHKEY_SECRET: required when NODE_ENV=production/],
    [{ LATCHKEY_SECRET: 'short' }, /LATCHKEY_SECRET: each comma-separated secret/],
    [{ LATCHKEY_IDLE_TIMEOUT: 'soon' }, /invalid configuration: LATCHKEY_IDLE_TIMEOUT:/],
    [{ LATCHKEY_REDIS_PREFIX: 'a b' }, /invalid configuration: LATCHKEY_REDIS_PREFIX:/],
  ])('%j', async (env, pattern) => {
    const run = await latchkey(['sessions', 'list', '--email', 'ada@example.com'], env);
    expectOneLineError(run, 1, pattern);
  });

  it('a data dir without a database is named, and no database is created there', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'latchkey-cli-empty-'));
    try {
      const run = await latchkey(['users', 'delete', '--email', 'ada@example.com', '--yes'], {
        LATCHKEY_DATA_DIR: empty,
      });
      expectOneLineError(run, 1, /LATCHKEY_DATA_DIR: no database at .*latchkey\.sqlite/);
      await expect(readFile(join(empty, 'latchkey.sqlite'))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
