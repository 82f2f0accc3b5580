import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import {
  createLatchkey,
  REFRESH_COOKIE,
  SESSION_COOKIE,
  type Latchkey,
  type SecurityEvent,
} from '@latchkey/core';
import {
  latchkeyOptions,
  openLatchkeyStores,
  readEnv,
  type OpenedStores,
} from '../src/config/index.js';

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..');
const { bin } = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as {
  bin: { latchkey: string };
};
/** The file package.json names as the `latchkey` bin: what `npx latchkey` runs. */
export const BIN = join(PACKAGE, bin.latchkey);

export const SECRET = 'cli-test-secret-'.padEnd(40, 'x');
export const PASSWORD = 'correct horse battery staple';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stderr without the security-event JSON lines. */
  messages: string[];
  /** The security events the command logged on stderr. */
  events: (SecurityEvent & { by?: string })[];
}

/**
 * Runs the real `latchkey` bin as an operator would, with exactly `env` (nothing of
 * the test process's environment but PATH and HOME).
 */
export function latchkey(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const lines = stderr.split('\n').filter(Boolean);
      const events = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      const messages = lines.filter((l) => !l.startsWith('{'));
      resolve({ code, stdout, stderr, messages, events });
    });
  });
}

/** A failure as the CLI must report it: the exit code, one line `latchkey: …`, nothing on stdout. */
export function expectOneLineError(run: Run, code: number, pattern: RegExp): void {
  expect({ code: run.code, stdout: run.stdout }).toEqual({ code, stdout: '' });
  expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  expect(run.stderr).toMatch(/^latchkey: /);
  expect(run.stderr.trimEnd()).toMatch(pattern);
}

/** The server side in the test process: a Latchkey on the stores `env` names, as `npm start` builds it. */
export interface App {
  latchkey: Latchkey;
  opened: OpenedStores;
  close(): Promise<void>;
}

export async function openApp(env: Record<string, string>): Promise<App> {
  const settings = readEnv(env);
  const opened = await openLatchkeyStores(settings);
  const latchkey = createLatchkey(
    await latchkeyOptions(settings, opened.store, { logger: () => undefined }),
  );
  return { latchkey, opened, close: () => opened.store.close() };
}

/** Opens the app, runs `work`, closes it (SQLite: the file is free for the CLI again). */
export async function withApp<T>(
  env: Record<string, string>,
  work: (app: App) => Promise<T>,
): Promise<T> {
  const app = await openApp(env);
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

const ORIGIN = 'http://localhost:3000';

/** What a signed-in browser holds: its credential cookie, and in token mode an access token. */
export interface Device {
  cookie: string;
  accessToken: string | null;
}

async function signIn(app: App, path: string, body: object): Promise<Device> {
  const response = await app.latchkey.handle(
    new Request(`${ORIGIN}/auth/${path}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json', 'user-agent': 'cli-test' },
      body: JSON.stringify(body),
    }),
  );
  if (response.status >= 300)
    throw new Error(`${path}: ${response.status} ${await response.text()}`);
  const json = (await response.json()) as { accessToken?: string };
  const cookie = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0] ?? '')
    .find((pair) => pair.startsWith(`${SESSION_COOKIE}=`) || pair.startsWith(`${REFRESH_COOKIE}=`));
  if (!cookie) throw new Error(`${path}: no credential cookie`);
  return { cookie, accessToken: json.accessToken ?? null };
}

/** Registers `email` and signs in `devices - 1` more times: one session per device. */
export async function account(app: App, email: string, devices = 1): Promise<Device[]> {
  const found: Device[] = [
    await signIn(app, 'register', { email, password: PASSWORD, name: 'Ada' }),
  ];
  for (let i = 1; i < devices; i++)
    found.push(await signIn(app, 'login', { email, password: PASSWORD }));
  return found;
}

/** Whether the app lets `device` in: its session cookie, or its bearer token in token mode. */
export async function admitted(app: App, device: Device): Promise<boolean> {
  const headers: Record<string, string> = device.accessToken
    ? { authorization: `Bearer ${device.accessToken}` }
    : { cookie: device.cookie };
  const result = await app.latchkey.authenticate(new Request(`${ORIGIN}/api/me`, { headers }));
  return result.ok;
}

/** The session id inside a credential cookie (`name=id.secret.signature`). */
export const sessionIdOf = (device: Device): string =>
  device.cookie.slice(device.cookie.indexOf('=') + 1).split('.')[0] ?? '';
