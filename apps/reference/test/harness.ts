import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnv } from '@latchkey/cli/config';
import type { SecurityEvent, UnsafeOptions } from '@latchkey/core';
import { startReferenceServer, type RunningServer } from '../src/server.js';

/** The headers API.md requires on every response the server sends, as patterns. */
export const SECURITY_HEADERS: Readonly<Record<string, RegExp>> = {
  'content-security-policy':
    /default-src 'self'.*frame-ancestors 'none'|frame-ancestors 'none'.*default-src 'self'/,
  'x-frame-options': /^DENY$/,
  'x-content-type-options': /^nosniff$/,
  'referrer-policy': /^same-origin$/,
  'strict-transport-security': /^max-age=(\d+); includeSubDomains$/,
  'cross-origin-opener-policy': /^same-origin$/,
  'x-xss-protection': /^0$/,
};

export const TEST_SECRET = 'test-secret-'.padEnd(40, 'x');

/** A port that was free a moment ago (the server needs it before listening, for its public URL). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export interface TestServer extends RunningServer {
  dataDir: string;
  events: (SecurityEvent & { time: string })[];
  /** Stops the server and deletes its data dir. */
  [Symbol.asyncDispose](): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Starts the real reference app on a free port with a fresh SQLite file. The
 * environment goes through the same validation as `npm start`.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { dataDir?: string; host?: string; unsafe?: UnsafeOptions } = {},
): Promise<TestServer> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'latchkey-test-')));
  const port = await freePort(host);
  const settings = readEnv({
    HOST: host,
    PORT: String(port),
    LATCHKEY_DATA_DIR: dataDir,
    LATCHKEY_SECRET: TEST_SECRET,
    // Suites sign up many users from one address; the limit's own test sets it low.
    LATCHKEY_REGISTER_LIMIT: '100000',
    ...env,
  });
  const events: TestServer['events'] = [];
  const server = await startReferenceServer(settings, {
    logger: (e) => events.push(e),
    ...(options.unsafe ? { unsafe: options.unsafe } : {}),
  });
  const dispose = async () => {
    await server.close();
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
  };
  return { ...server, dataDir, events, dispose, [Symbol.asyncDispose]: dispose };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
  setCookies: string[];
}

/** A minimal browser stand-in: keeps cookies from Set-Cookie and sends them back. */
export class Agent {
  readonly cookies = new Map<string, string>();
  csrfToken: string | null = null;

  constructor(readonly baseUrl: string) {}

  async request(
    method: string,
    path: string,
    init: { json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size > 0 && !('cookie' in headers)) {
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, headers: response.headers, text, json, setCookies };
  }

  /** Fetches the session and remembers its CSRF token. */
  async refreshCsrf(): Promise<string> {
    const reply = await this.request('GET', '/auth/session');
    this.csrfToken = reply.json?.csrfToken ?? null;
    if (!this.csrfToken) throw new Error(`no csrf token (status ${reply.status})`);
    return this.csrfToken;
  }

  /** An unsafe request with the anti-forgery header, as the client library sends it. */
  async unsafe(method: string, path: string, json?: unknown): Promise<Reply> {
    const token = this.csrfToken ?? (await this.refreshCsrf());
    return this.request(method, path, {
      ...(json === undefined ? {} : { json }),
      headers: { 'x-csrf-token': token },
    });
  }
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}.${Date.now().toString(36)}@example.com`;
}

export const GOOD_PASSWORD = 'correct horse battery staple';

export async function registered(
  baseUrl: string,
  name: string | null = 'Ada',
): Promise<{ agent: Agent; email: string; user: any }> {
  const agent = new Agent(baseUrl);
  const email = uniqueEmail();
  const reply = await agent.request('POST', '/auth/register', {
    json: { email, password: GOOD_PASSWORD, name },
  });
  if (reply.status !== 201) throw new Error(`register failed: ${reply.status} ${reply.text}`);
  return { agent, email, user: reply.json.user };
}
