import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * Node flags for a bench script: tsx, and the workspace packages from their TypeScript
 * source (the "@latchkey/source" export condition), as the scripts import them.
 */
export const SOURCE_ARGS = ['--conditions=@latchkey/source', '--import', 'tsx'];

export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The tail of stderr, for error messages. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Peak resident set size (VmHWM) of a live process, in bytes; null when unreadable. */
export function peakRss(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Starts `node --import tsx <script>` from the repository root (so tsx and Latchkey's
 * dependencies resolve from the root node_modules, the peers from bench/node_modules) and
 * waits for its `BENCH_READY <port>` line.
 */
export async function startServer(
  name: string,
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, ...SOURCE_ARGS, script], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errTail = (errTail + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${name}: no BENCH_READY within ${timeoutMs} ms\n${errTail}`));
    }, timeoutMs);
    lines.on('line', (line) => {
      const match = /^BENCH_READY (\d+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready\n${errTail}`));
    });
  });
  return {
    name,
    port,
    pid: child.pid!,
    child,
    stderr: () => errTail,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a script to completion and returns its last stdout line parsed as JSON. */
export async function runJsonScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  onLine: (line: string) => void = () => undefined,
): Promise<any> {
  const child = spawn(process.execPath, [...nodeArgs, ...SOURCE_ARGS, script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let last = '';
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line.startsWith('{')) last = line;
    else onLine(line);
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`${script} exited with ${code}`);
  return JSON.parse(last);
}
