import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  childPids,
  freePort,
  killChild,
  running,
  signalAll,
  spawnUntilReady,
  waitUntilGone,
} from '@latchkey/store-conformance';

/*
 * A PRIVATE PostgreSQL (initdb in a temp folder, a free port) that a test may freeze,
 * kill and restart; the shared server is never touched. PostgreSQL refuses to run as
 * root, so the server runs as the `postgres` user (needs root to switch).
 */

const BIN = '/usr/lib/postgresql/15/bin';
const isRoot = process.getuid?.() === 0;

/** Why a private server cannot be started here, or null when it can. */
export const privatePostgresMissing: string | null =
  isRoot && existsSync(join(BIN, 'postgres')) && existsSync(join(BIN, 'initdb'))
    ? null
    : `a private PostgreSQL needs root and PostgreSQL's binaries in ${BIN}`;

const asPostgres = (command: string, args: string[]) => ['-u', 'postgres', '--', command, ...args];

const startPostgres = (dir: string, port: number) =>
  spawnUntilReady(
    'runuser',
    asPostgres(join(BIN, 'postgres'), [
      ...['-D', join(dir, 'data'), '-p', String(port), '-k', dir],
      ...['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    ]),
    { ready: 'ready to accept connections', timeoutMs: 20_000 },
  );

/**
 * The private server's processes: the postmaster (from its pid file) and its children.
 * PostgreSQL puts every backend in a process group of its own, so a group signal would
 * miss them; they are addressed one by one, by id.
 */
function serverPids(dir: string): number[] {
  const postmaster = postmasterPid(dir);
  return [postmaster, ...childPids(postmaster)];
}

const postmasterPid = (dir: string) =>
  Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);

/**
 * Waits until `pid` is reaped, not only dead. The killed postmaster is reparented to
 * init and stays a zombie until init reaps it; a restart's lock-file check asks
 * kill(pid, 0), which a zombie passes, and refuses to start ("lock file
 * postmaster.pid already exists").
 */
async function untilReaped(pid: number | undefined, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pid !== undefined && existsSync(`/proc/${pid}`) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function initdb(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  await chown(dir, uid, gid);
  execFileSync(
    'runuser',
    asPostgres(join(BIN, 'initdb'), [
      ...['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    ]),
    { stdio: 'ignore' },
  );
  return dir;
}

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  /** SIGSTOP of the postmaster, then of every process it has: connections stay open, nothing answers. */
  freeze(): void;
  /** Undoes `freeze`. */
  resume(): void;
  /** SIGKILL of every server process at once, like a crashed host; resolves once they are gone. */
  kill(): Promise<void>;
  /** Starts again on the same port and data folder after `kill`. */
  restart(): Promise<void>;
  /** Kills whatever still runs and removes the data folder. */
  stop(): Promise<void>;
}

/** Starts a private PostgreSQL and resolves once it accepts connections. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (privatePostgresMissing !== null) throw new Error(privatePostgresMissing);
  const dir = await initdb();
  const port = await freePort();
  let server: ChildProcess | undefined = await startPostgres(dir, port);
  let frozen: number[] = [];

  async function crash(): Promise<void> {
    if (!running(server)) return;
    const pids = serverPids(dir);
    signalAll(pids, 'SIGKILL');
    // runuser stops itself when its child is stopped; woken, it sees the child gone and exits.
    if (server.pid !== undefined) signalAll([server.pid], 'SIGCONT');
    await killChild(server);
    server = undefined;
    await waitUntilGone(pids);
    await untilReaped(pids[0]);
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    // Postmaster first, so it starts no new backend, then every process it has.
    freeze() {
      signalAll([postmasterPid(dir)], 'SIGSTOP');
      frozen = serverPids(dir);
      signalAll(frozen, 'SIGSTOP');
    },
    resume() {
      signalAll(server?.pid === undefined ? frozen : [...frozen, server.pid], 'SIGCONT');
    },
    kill: crash,
    async restart() {
      server = await startPostgres(dir, port);
    },
    async stop() {
      await crash();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
