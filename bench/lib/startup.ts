import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './proc.js';
import type { StartupResults, StartupVariant } from './types.js';

/** How the reference app is started: `npm start` (compiled) and `npm run dev` (source). */
const VARIANTS = [
  {
    id: 'node',
    label: '`npm start`: compiled JavaScript',
    command: 'node apps/reference/dist-server/main.js',
    args: ['apps/reference/dist-server/main.js'],
  },
  {
    id: 'tsx',
    label: '`npm run dev`: TypeScript through tsx (what `npm start` ran before)',
    command: 'tsx --conditions=@latchkey/source apps/reference/src/main.ts',
    args: [
      join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
      '--conditions=@latchkey/source',
      'apps/reference/src/main.ts',
    ],
  },
] as const;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * One start: spawn, then the milliseconds until the process prints its "… on http://"
 * line and until `GET /config.json` first answers 200 (polled every 5 ms); then SIGTERM.
 */
async function startOnce(
  args: readonly string[],
  dataDir: string,
): Promise<{ listeningMs: number; firstOkMs: number }> {
  const port = await freePort();
  // Only what the run sets: no DATABASE_URL or Redis from the caller's environment.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^(LATCHKEY_|DATABASE_URL$|REDIS_URL$|NODE_OPTIONS$)/.test(key),
    ),
  );
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_SECRET: 'bench-startup-secret-'.padEnd(40, 'x'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const listening = new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (/ on https?:\/\//.test(line)) resolve(performance.now() - started);
      });
      void exited.then(() => reject(new Error(`the app exited before listening: ${output}`)));
    });
    let firstOkMs = Number.NaN;
    const deadline = started + 60_000;
    while (performance.now() < deadline && child.exitCode === null) {
      const ok = await fetch(`http://127.0.0.1:${port}/config.json`).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ok) {
        firstOkMs = performance.now() - started;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (Number.isNaN(firstOkMs)) throw new Error(`no 200 on /config.json: ${output}`);
    return { listeningMs: await listening, firstOkMs };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/**
 * Start-up time of the reference app (SQLite, session mode), compiled vs through tsx:
 * `npm run build` first (incremental), one untimed start each to create the database
 * and warm the file cache and tsx's transform cache, then `runs` timed starts each,
 * interleaved so both see the same machine.
 */
export async function startupBenchmarks(
  scratch: string,
  runs: number,
  log: (text: string) => void,
): Promise<StartupResults> {
  try {
    execFileSync('npm', ['run', 'build', '--workspace', '@latchkey/reference'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    return { skipped: `the build failed: ${stderr.split('\n').slice(-3).join(' ')}` };
  }
  const variants: StartupVariant[] = VARIANTS.map((v) => ({
    id: v.id,
    label: v.label,
    command: v.command,
    listeningMs: [],
    firstOkMs: [],
    medianListeningMs: Number.NaN,
    medianFirstOkMs: Number.NaN,
  }));
  const dirs = VARIANTS.map((v) => join(scratch, `startup-${v.id}`));
  for (const [i, variant] of VARIANTS.entries()) {
    mkdirSync(dirs[i]!, { recursive: true });
    await startOnce(variant.args, dirs[i]!);
  }
  for (let run = 0; run < runs; run += 1) {
    for (const [i, variant] of VARIANTS.entries()) {
      const timing = await startOnce(variant.args, dirs[i]!);
      variants[i]!.listeningMs.push(timing.listeningMs);
      variants[i]!.firstOkMs.push(timing.firstOkMs);
      log(
        `start-up ${variant.id} #${run + 1}: listening ${timing.listeningMs.toFixed(0)} ms, first 200 ${timing.firstOkMs.toFixed(0)} ms`,
      );
    }
  }
  for (const variant of variants) {
    variant.medianListeningMs = median(variant.listeningMs);
    variant.medianFirstOkMs = median(variant.firstOkMs);
  }
  return { runs, variants };
}
