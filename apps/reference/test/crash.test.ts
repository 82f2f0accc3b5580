import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, freePort, GOOD_PASSWORD, TEST_SECRET, uniqueEmail } from './harness.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');
const children: ChildProcess[] = [];

/** Runs `npm start`'s entry point as its own process, as production does. */
async function startProcess(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=@latchkey/source', '--import', 'tsx', MAIN],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        LATCHKEY_DATA_DIR: dataDir,
        LATCHKEY_SECRET: TEST_SECRET,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(' on http://')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${output}`)));
  });
  return child;
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('durability on SQLite', () => {
  it('SIGKILL right after answering loses no committed user, session or note', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-crash-'));
    try {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const first = await startProcess(dataDir, port);
      const agent = new Agent(url);
      const email = uniqueEmail('crash');
      const registered = await agent.request('POST', '/auth/register', {
        json: { email, password: GOOD_PASSWORD },
      });
      expect(registered.status).toBe(201);
      const note = await agent.unsafe('POST', '/api/notes', {
        text: 'written just before the crash',
      });
      expect(note.status).toBe(201);
      // No graceful shutdown: the process dies the moment the answers are in.
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));

      await startProcess(dataDir, port);
      const session = await agent.request('GET', '/auth/session');
      expect(session.status).toBe(200);
      expect(session.json.user.email).toBe(email);
      const notes = await agent.request('GET', '/api/notes');
      expect(notes.json.notes.map((n: { text: string }) => n.text)).toEqual([
        'written just before the crash',
      ]);
      const login = await new Agent(url).request('POST', '/auth/login', {
        json: { email, password: GOOD_PASSWORD },
      });
      expect(login.status).toBe(200);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
