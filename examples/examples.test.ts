import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  cookieOf,
  describeBinding,
  PASSWORD,
  type Served,
} from '../packages/adapters/test/binding-suite.js';
import { createApp as expressApp } from './express/app.js';
import { createApp as fastifyApp } from './fastify/app.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Each example's app factory, over HTTP, in session and token mode.
describeBinding(
  'examples/express',
  async (latchkey) => {
    const server: Server = expressApp(latchkey).listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    } satisfies Served;
  },
  { coreOnly: true, unsafePath: '/api/notes' },
);

describeBinding(
  'examples/fastify',
  async (latchkey) => {
    const app = await fastifyApp(latchkey);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    return { base: address, close: () => app.close() } satisfies Served;
  },
  { coreOnly: true, unsafePath: '/api/notes' },
);

/** Starts `server.ts` as the README says, on a fresh SQLite file and a free port. */
async function runServer(example: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `latchkey-${example}-`));
  const child = spawn(
    process.execPath,
    ['--conditions=@latchkey/source', '--import', 'tsx', `examples/${example}/server.ts`],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LATCHKEY_DB: join(dir, 'latchkey.sqlite'),
        LATCHKEY_SECRET: 'example-secret-0123456789abcdef0123456789',
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  onTestFinished(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+?):(\d+)/.exec(output);
      if (match) resolve(`http://127.0.0.1:${match[2]}`);
    });
    child.once('exit', (code) => reject(new Error(`${example} exited ${code}: ${output}`)));
  });
}

describe.each(['express', 'fastify'])('examples/%s/server.ts', (example) => {
  it('runs on SQLite: register, the protected route, 401 without the cookie', async () => {
    const base = await runServer(example);
    const register = await fetch(`${base}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'example@example.com', password: PASSWORD }),
    });
    expect(register.status).toBe(201);
    const { user } = (await register.json()) as { user: { id: string } };
    const cookie = cookieOf(register, '__Host-Http-session')!;
    const me = await fetch(`${base}/api/me`, { headers: { cookie } });
    expect(await me.json()).toEqual({ id: user.id });
    expect(me.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect((await fetch(`${base}/api/me`)).status).toBe(401);
  });
});
