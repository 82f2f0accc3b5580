import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Shared by the contender servers in bench/servers/. Each one is its own process: it
 * listens on 127.0.0.1 (port 0), prints `BENCH_READY <port>` on stdout for the harness,
 * and serves an authenticated `GET /me` answering `{"id": <user id>}`. The harness gets
 * a credential through the contender's own API before it drives `/me`.
 */

/** The user id of the contenders that keep the id themselves (no user table). */
export const BENCH_USER_ID = 'bench-user-0001';

/** A private scratch folder made by the harness for this process (SQLite files). */
export const benchDir = (): string => {
  const dir = process.env.BENCH_DIR;
  if (!dir) throw new Error('BENCH_DIR is not set: start the servers through bench/run.ts');
  return dir;
};

export const redisUrl = (): string => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other process uses, for contenders that write to the shared Redis. */
export const redisPrefix = (name: string): string =>
  `${process.env.BENCH_REDIS_PREFIX ?? 'latchkey-bench'}:${name}:${process.pid}:`;

const cleanups: (() => Promise<void> | void)[] = [];

/** Runs on SIGTERM/SIGINT before the process exits (close stores, delete Redis keys). */
export function onShutdown(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error('bench server cleanup failed:', error);
    }
  }
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

/** Listens on 127.0.0.1 and tells the harness the port. */
export async function ready(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`BENCH_READY ${port}\n`);
  onShutdown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  );
  return port;
}

/** Writes a small JSON answer, as every contender's `/me` does. */
export function sendJson(
  res: import('node:http').ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Reads a (small) request body as JSON. */
export async function readJson(req: import('node:http').IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : JSON.parse(text);
}
