import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/*
 * Process helpers for fault tests that run a PRIVATE backend (redis-server,
 * postgres) on a free port and freeze, kill and restart it. Processes are addressed
 * by id only, never by name: a shared server on the machine is never touched.
 */

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Spawns `command` and resolves once `ready` appears on its stdout or stderr.
 * Rejects with everything it printed if it exits first or is not ready within
 * `timeoutMs`; a server that timed out is killed rather than left behind.
 */
export async function spawnUntilReady(
  command: string,
  args: readonly string[],
  { ready, timeoutMs = 10_000 }: { ready: string; timeoutMs?: number },
): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${command} did not start within ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(ready)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${command} exited with ${code ?? signal}:\n${output}`));
      });
    });
  } catch (error) {
    await killChild(child);
    throw error;
  }
  return child;
}

/** Whether the child has not exited (nor been killed) yet. */
export const running = (child: ChildProcess | undefined): child is ChildProcess =>
  child !== undefined && child.exitCode === null && child.signalCode === null;

/** SIGKILL, then waits for the exit; nothing to do for a child that has already gone. */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (!running(child)) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** Sends `signal` to each process id, skipping the ones already gone. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** The direct children of `pid` (pgrep -P); none when it has none. */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)])
      .toString()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    // pgrep exits 1 when there are none.
    return [];
  }
}

/** Running, stopped or sleeping; a zombie (killed, not yet reaped) counts as gone. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return false;
  }
}

/** Waits until none of `pids` is alive, or `timeoutMs` has passed. */
export async function waitUntilGone(pids: readonly number[], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
