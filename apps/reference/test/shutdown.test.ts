import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, freePort, GOOD_PASSWORD, TEST_SECRET, uniqueEmail } from './harness.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

interface Started {
  child: ChildProcess;
  /** Everything the process wrote to stdout so far. */
  stdout: () => string;
  exited: Promise<number | null>;
}

/** `npm start`'s entry point in its own process, as production runs it. */
async function startProcess(dataDir: string, port: number): Promise<Started> {
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
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start: ${stdout}${stderr}`)), 30_000);
    const check = () => {
      if (stdout.includes(' on http://')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => reject(new Error(`exited (${code}): ${stdout}${stderr}`)));
  });
  return { child, stdout: () => stdout, exited };
}

interface Write {
  /** True once the TCP connection was established (it may still wait in the listen backlog). */
  connected: boolean;
  /** Set when the whole answer arrived. */
  status?: number;
  noteId?: string;
  /** Set when the connection failed (refused, reset) instead. */
  error?: string;
  done: Promise<void>;
}

/**
 * POST /api/notes on a connection of its own (no keep-alive pool), so that whether
 * it was established before the signal is known exactly: its `connect` event.
 */
function write(
  port: number,
  cookie: string,
  csrf: string,
  text: string,
  /** Send only the first half of the body; the rest when `finish` is called. */
  slow = false,
): Write & { finish: () => void } {
  const body = JSON.stringify({ text });
  const result = { connected: false, finish: () => undefined } as Write & { finish: () => void };
  result.done = new Promise<void>((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/notes',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          cookie,
          'x-csrf-token': csrf,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          result.status = res.statusCode ?? 0;
          if (res.statusCode === 201)
            result.noteId = (JSON.parse(text) as { note: { id: string } }).note.id;
          resolve();
        });
        res.on('error', (error) => {
          result.error = error.message;
          resolve();
        });
      },
    );
    req.on('socket', (socket) => socket.once('connect', () => (result.connected = true)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      result.error = error.code ?? error.message;
      resolve();
    });
    if (!slow) return void req.end(body);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    result.finish = () => void req.end(body.slice(half));
  });
  return result;
}

describe('graceful shutdown on SIGTERM', () => {
  it('answers every write that reached the server before the signal, keeps every acknowledged one, exits 0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-shutdown-'));
    try {
      const port = await freePort();
      const server = await startProcess(dataDir, port);
      const agent = new Agent(`http://127.0.0.1:${port}`);
      const signUp = await agent.request('POST', '/auth/register', {
        json: { email: uniqueEmail('drain'), password: GOOD_PASSWORD },
      });
      expect(signUp.status).toBe(201);
      const csrf = await agent.refreshCsrf();
      const cookie = [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

      // A steady stream of writes, 4 at a time, that goes on through the signal.
      const stream: Write[] = [];
      let streaming = true;
      const streamers = Array.from({ length: 4 }, async (_, lane) => {
        for (let i = 0; streaming; i++) {
          const w = write(port, cookie, csrf, `stream ${lane}.${i}`);
          stream.push(w);
          await w.done;
          if (w.error) break; // refused: the server has stopped listening
        }
      });
      while (stream.filter((w) => w.status === 201).length < 20) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }

      // A write whose body is half sent when the signal comes: in flight, waiting on the client.
      const slow = write(port, cookie, csrf, 'slow upload '.repeat(20), true);

      // A burst of 40 writes; the signal goes once every one of them is connected and the
      // server has begun answering them, so most are mid-way (read, queued, or still in
      // the listen backlog) when it arrives.
      const burst = Array.from({ length: 40 }, (_, i) => write(port, cookie, csrf, `burst ${i}`));
      while (!burst.every((w) => w.connected || w.error) || !burst.some((w) => w.status)) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      while (!slow.connected) await new Promise((resolve) => setImmediate(resolve));
      const connectedBeforeSignal = new Set([...burst, ...stream, slow].filter((w) => w.connected));
      const pendingAtSignal = [...connectedBeforeSignal].filter(
        (w) => w.status === undefined && w.error === undefined,
      ).length;
      const signalledAt = performance.now();
      server.child.kill('SIGTERM');
      // Once the server no longer says it is ready (or no longer answers), the slow
      // client sends the rest of its body.
      for (;;) {
        const probe = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (probe !== 200) break;
      }
      slow.finish();
      const code = await server.exited;
      const exitedMs = performance.now() - signalledAt;
      streaming = false;
      await Promise.all([...burst, ...stream, slow].map((w) => w.done));
      await Promise.all(streamers);

      const all = [...burst, ...stream, slow];
      const acknowledged = all.filter((w) => w.status === 201);
      const db = new Database(join(dataDir, 'latchkey.sqlite'), { readonly: true });
      const stored = new Set(
        db
          .prepare<[], { id: string }>('SELECT id FROM notes')
          .all()
          .map((row) => row.id),
      );
      db.close();
      const lostAcknowledged = acknowledged.filter((w) => !stored.has(w.noteId as string));
      const failedBeforeSignal = [...connectedBeforeSignal].filter((w) => w.status !== 201);
      console.log(
        `shutdown: ${pendingAtSignal} writes in flight at SIGTERM (burst of ${burst.length}, stream of ${stream.length}); ` +
          `exit ${code} after ${exitedMs.toFixed(0)} ms; ${failedBeforeSignal.length} of ${connectedBeforeSignal.size} connected before the signal not answered 201 ` +
          `(${[...new Set(failedBeforeSignal.map((w) => w.error ?? w.status))].join(', ')}); ` +
          `${lostAcknowledged.length} acknowledged writes missing from the store; ` +
          `server said: ${JSON.stringify(server.stdout().match(/latchkey: drained.*/)?.[0] ?? null)}`,
      );

      expect(failedBeforeSignal.map((w) => w.error ?? w.status)).toEqual([]);
      expect(lostAcknowledged).toEqual([]);
      expect(code).toBe(0);
      // What came after the signal was refused or answered, never half-done.
      for (const w of all) expect(w.status === 201 || w.error !== undefined).toBe(true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
