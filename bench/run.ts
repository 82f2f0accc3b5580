/**
 * `npm run bench` (full, ≈ 10 minutes) or `npm run bench -- --quick` (< 3 minutes).
 *
 * Starts every contender in bench/contenders.ts as its own process on 127.0.0.1, gets a
 * credential through its own API, checks that /me really authenticates, then drives
 * `GET /me` with autocannon: a warm-up each, then rounds in which bare node:http runs
 * first and last and every other contender in between, so each ratio is taken within one
 * round. Then: login latency and throughput, /me p99 during a login storm, session
 * lookup against 1k…1M stored sessions, the client library's size, and the reference
 * app's start-up time (compiled vs tsx). Writes
 * docs/benchmarks.json, docs/benchmarks.svg and docs/BENCHMARKS.md.
 *
 * Options: --quick; --only=<id,id> (a subset of contenders, for debugging: the docs are
 * then not rewritten); --profile=<id|login|lookup,...> (node --cpu-prof for those
 * processes, summarised at the end; profiles in bench/results/profiles/); --rerender (rewrite
 * BENCHMARKS.md and the chart from docs/benchmarks.json, measuring nothing).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BARE_NODE, CONTENDERS, type Contender } from './contenders.js';
import { clientSizes } from './lib/client-size.js';
import { ACCOUNT, obtainCredential, verifyCredential, type Credential } from './lib/credentials.js';
import { load, type LoadOptions, type LoadResult } from './lib/load.js';
import { peer } from './lib/peer.js';
import { peakRss, ROOT, runJsonScript, startServer, type ServerProcess } from './lib/proc.js';
import { hotSpots, type HotSpot } from './lib/profile.js';
import { writeReport } from './lib/report.js';
import { startupBenchmarks } from './lib/startup.js';
import { evaluateTargets } from './lib/targets.js';
import type {
  BenchResults,
  ContenderResult,
  LoginResults,
  LookupResults,
  RoundRecord,
} from './lib/types.js';

const args = process.argv.slice(2);
const option = (name: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? null;
const quick = args.includes('--quick');
const only = option('only')?.split(',') ?? null;
const profiled = new Set(option('profile')?.split(',') ?? []);

const PLAN = quick
  ? {
      mode: 'quick' as const,
      connections: 50,
      warmup: 1,
      duration: 2,
      rounds: 3,
      login: { duration: 3, throughputConnections: 8 },
      storm: { pairs: 1, duration: 3, rate: 1000, probeConnections: 10, loginConnections: 16 },
      lookup: { sqlite: [1_000, 100_000, 1_000_000], redis: [1_000, 100_000], batches: 6 },
      startup: { runs: 3 },
    }
  : {
      mode: 'full' as const,
      connections: 50,
      warmup: 3,
      duration: 6,
      rounds: 5,
      login: { duration: 6, throughputConnections: 8 },
      storm: { pairs: 3, duration: 5, rate: 1000, probeConnections: 10, loginConnections: 16 },
      lookup: {
        sqlite: [1_000, 100_000, 1_000_000],
        redis: [1_000, 100_000, 1_000_000],
        batches: 12,
      },
      startup: { runs: 7 },
    };

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Every Redis key this run writes starts with this; swept at the end. */
const REDIS_PREFIX = `latchkey-bench-${process.pid}`;
const RESULTS = join(ROOT, 'bench/results');
const PROFILES = join(RESULTS, 'profiles');
const scratch = mkdtempSync(join(os.tmpdir(), 'latchkey-bench-'));
const started = Date.now();

const log = (text: string) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stdout.write(`[${seconds}s] ${text}\n`);
};
const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const readText = (file: string) => readFileSync(file, 'utf8');
const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : '–';

const servers: ServerProcess[] = [];

async function cleanup() {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(scratch, { recursive: true, force: true });
  await sweepRedis().catch(() => undefined);
}

let redis: any = null;
async function connectRedis(): Promise<string | null> {
  const { createClient } = await peer('redis');
  const client = createClient({
    url: REDIS_URL,
    socket: { connectTimeout: 2000, reconnectStrategy: false },
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    redis = client;
    const info: string = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {
    return null;
  }
}

async function sweepRedis() {
  if (!redis) return;
  for await (const keys of redis.scanIterator({ MATCH: `${REDIS_PREFIX}:*`, COUNT: 1000 })) {
    const batch: string[] = Array.isArray(keys) ? keys : [keys];
    if (batch.length > 0) await redis.unlink(batch);
  }
}

/** One autocannon run that must be all 2xx: anything else is a broken contender. */
async function drive(name: string, options: LoadOptions): Promise<LoadResult> {
  const result = await load(options);
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0 || result.requests === 0) {
    throw new Error(
      `${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts ` +
        `out of ${result.requests + result.non2xx} (status codes ${JSON.stringify(result.statusCodes)}). ` +
        'A contender must answer every authenticated request with 200; aborting.',
    );
  }
  return result;
}

interface Live {
  contender: Contender;
  server: ServerProcess;
  base: string;
  credential: Credential;
}

async function startContender(contender: Contender, redisVersion: string | null): Promise<Live> {
  const dir = join(scratch, contender.id);
  mkdirSync(dir);
  const nodeArgs = profiled.has(contender.id)
    ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILES, contender.id)}`]
    : [];
  if (contender.redis && !redisVersion) throw new Error(`Redis is not reachable at ${REDIS_URL}`);
  const server = await startServer(
    contender.id,
    join('bench', contender.server),
    { BENCH_DIR: dir, REDIS_URL, BENCH_REDIS_PREFIX: REDIS_PREFIX },
    nodeArgs,
  );
  servers.push(server);
  const base = `http://127.0.0.1:${server.port}`;
  const credential = await obtainCredential(contender.credential, base);
  await verifyCredential(contender.credential, base, credential, contender.path);
  return { contender, server, base, credential };
}

const meLoad = (live: Live, duration: number): LoadOptions => ({
  url: `${live.base}${live.contender.path ?? '/me'}`,
  duration,
  connections: PLAN.connections,
  headers: live.credential.headers,
});

async function throughputRounds(redisVersion: string | null) {
  const results = new Map<string, ContenderResult>();
  const selected = CONTENDERS.filter((c) => !only || only.includes(c.id) || c.id === BARE_NODE);
  const available: Contender[] = [];
  for (const contender of selected) {
    const base = { id: contender.id, label: contender.label, group: contender.group };
    if (!existsSync(join(ROOT, 'bench', contender.server))) {
      const reason = `not available yet (${contender.pending ?? 'no server script'}: bench/${contender.server} does not exist)`;
      log(`skip ${contender.id}: ${reason}`);
      results.set(contender.id, { ...base, status: 'skipped', reason });
    } else if (contender.redis && !redisVersion) {
      const reason = `Redis is not reachable at ${REDIS_URL}`;
      log(`skip ${contender.id}: ${reason}`);
      results.set(contender.id, { ...base, status: 'skipped', reason });
    } else available.push(contender);
  }

  log(`starting ${available.length} servers`);
  // allSettled: when one server fails to start, the others must have finished starting
  // (and be in `servers`) before cleanup() stops them, or they outlive the run.
  const started = await Promise.allSettled(available.map((c) => startContender(c, redisVersion)));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  const lives = started.map((s) => (s as PromiseFulfilledResult<Live>).value);
  const bare = lives.find((l) => l.contender.id === BARE_NODE)!;
  const others = lives.filter((l) => l !== bare);

  for (const live of lives) {
    await drive(`${live.contender.id} warm-up`, meLoad(live, PLAN.warmup));
  }
  log(`warmed up; ${PLAN.rounds} rounds of ${others.length + 2} × ${PLAN.duration} s`);

  const perRound = new Map<string, LoadResult[]>(lives.map((l) => [l.contender.id, []]));
  const rounds: RoundRecord[] = [];
  for (let r = 0; r < PLAN.rounds; r++) {
    // Rotate the middle so no contender always runs right after the bare server.
    const middle = others.map((_, i) => others[(i + r) % others.length]!);
    const bareStart = await drive(
      `${BARE_NODE} (round ${r + 1} start)`,
      meLoad(bare, PLAN.duration),
    );
    const rps: Record<string, number> = {};
    for (const live of middle) {
      const result = await drive(
        `${live.contender.id} (round ${r + 1})`,
        meLoad(live, PLAN.duration),
      );
      perRound.get(live.contender.id)!.push(result);
      rps[live.contender.id] = result.rps;
    }
    const bareEnd = await drive(`${BARE_NODE} (round ${r + 1} end)`, meLoad(bare, PLAN.duration));
    perRound.get(BARE_NODE)!.push(bareStart, bareEnd);
    const bareRps = (bareStart.rps + bareEnd.rps) / 2;
    rps[BARE_NODE] = bareRps;
    rounds.push({
      round: r + 1,
      order: [BARE_NODE, ...middle.map((l) => l.contender.id), BARE_NODE],
      bareStart: bareStart.rps,
      bareEnd: bareEnd.rps,
      rps,
    });
    log(
      `round ${r + 1}: bare ${fmt(bareStart.rps)} → ${fmt(bareEnd.rps)} req/s; ` +
        middle.map((l) => `${l.contender.id} ${fmt(rps[l.contender.id]!)}`).join(', '),
    );
  }

  for (const live of lives) {
    const runs = perRound.get(live.contender.id)!;
    const ratios = rounds.map((round) => round.rps[live.contender.id]! / round.rps[BARE_NODE]!);
    results.set(live.contender.id, {
      id: live.contender.id,
      label: live.contender.label,
      group: live.contender.group,
      status: 'measured',
      runs: runs.map(({ rps, p50, p99, non2xx, requests }) => ({
        rps,
        p50,
        p99,
        non2xx,
        requests,
      })),
      rps: median(runs.map((x) => x.rps)),
      p50: median(runs.map((x) => x.p50)),
      p99: median(runs.map((x) => x.p99)),
      non2xx: runs.reduce((sum, x) => sum + x.non2xx, 0),
      ratioToBare: median(ratios),
      ratioRange: [Math.min(...ratios), Math.max(...ratios)],
      peakRssBytes: peakRss(live.server.pid),
    });
  }
  await Promise.all(lives.map((l) => l.server.stop()));
  return {
    contenders: CONTENDERS.filter((c) => results.has(c.id)).map((c) => results.get(c.id)!),
    rounds,
  };
}

async function loginBenchmarks(): Promise<LoginResults> {
  const dir = join(scratch, 'login');
  mkdirSync(dir);
  const nodeArgs = profiled.has('login')
    ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILES, 'login')}`]
    : [];
  const server = await startServer(
    'latchkey-login',
    'bench/servers/latchkey-sqlite.ts',
    { BENCH_DIR: dir },
    nodeArgs,
  );
  servers.push(server);
  const base = `http://127.0.0.1:${server.port}`;
  const credential = await obtainCredential('latchkey-session', base);
  await verifyCredential('latchkey-session', base, credential);
  const login = (duration: number, connections: number): LoadOptions => ({
    url: `${base}/auth/login`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ACCOUNT.email, password: ACCOUNT.password }),
    duration,
    connections,
  });
  const probe = (): LoadOptions => ({
    url: `${base}/me`,
    headers: credential.headers,
    duration: PLAN.storm.duration,
    connections: PLAN.storm.probeConnections,
    overallRate: PLAN.storm.rate,
  });

  await drive('login warm-up', login(1, 2));
  const latency = await drive('login, one connection', login(PLAN.login.duration, 1));
  log(
    `login, 1 connection: ${fmt(latency.rps)}/s, p50 ${fmt(latency.p50, 1)} ms, p99 ${fmt(latency.p99, 1)} ms`,
  );
  const throughput = await drive(
    `login, ${PLAN.login.throughputConnections} connections`,
    login(PLAN.login.duration, PLAN.login.throughputConnections),
  );
  log(
    `login, ${PLAN.login.throughputConnections} connections: ${fmt(throughput.rps)}/s, p50 ${fmt(throughput.p50, 1)} ms`,
  );

  const pairs: LoginResults['storm']['pairs'] = [];
  for (let i = 0; i < PLAN.storm.pairs; i++) {
    const idle = await drive('/me idle', probe());
    // The storm starts first and outlasts the probe, so the probe sees it throughout.
    const storm = drive(
      'login storm',
      login(PLAN.storm.duration + 1.5, PLAN.storm.loginConnections),
    );
    // Awaited below; marked handled now so a failing probe is the error reported.
    storm.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = await drive('/me during the login storm', probe());
    const logins = await storm;
    pairs.push({ idle, during, logins });
    log(
      `storm ${i + 1}: /me p99 idle ${fmt(idle.p99, 2)} ms → during ${fmt(during.p99, 2)} ms ` +
        `(${fmt(logins.rps)} logins/s)`,
    );
  }
  await server.stop();
  return {
    latency,
    throughput,
    throughputConnections: PLAN.login.throughputConnections,
    storm: {
      rate: PLAN.storm.rate,
      probeConnections: PLAN.storm.probeConnections,
      loginConnections: PLAN.storm.loginConnections,
      pairs,
      idleP99: median(pairs.map((p) => p.idle.p99)),
      duringP99: median(pairs.map((p) => p.during.p99)),
      ratio: median(pairs.map((p) => p.during.p99 / p.idle.p99)),
    },
  };
}

async function lookupBenchmarks(redisVersion: string | null): Promise<LookupResults> {
  const run = (backend: string, sizes: number[]) =>
    runJsonScript(
      'bench/lookup.ts',
      [`--backends=${backend}`, `--sizes=${sizes.join(',')}`, `--batches=${PLAN.lookup.batches}`],
      { REDIS_URL, BENCH_REDIS_PREFIX: REDIS_PREFIX },
      profiled.has('lookup') ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILES, 'lookup')}`] : [],
      (line) => log(line.trim()),
    );
  const sqlite = (await run('sqlite', PLAN.lookup.sqlite)).sqlite;
  const redisResult = redisVersion
    ? (await run('redis', PLAN.lookup.redis)).redis
    : { skipped: `Redis is not reachable at ${REDIS_URL}` };
  return { sqlite, redis: redisResult };
}

function versions(redisVersion: string | null): Record<string, string> {
  const read = (name: string) => {
    for (const dir of [join(ROOT, 'bench/node_modules'), join(ROOT, 'node_modules')]) {
      const file = join(dir, name, 'package.json');
      if (existsSync(file)) {
        return (JSON.parse(readText(file)) as { version: string }).version;
      }
    }
    return 'not installed';
  };
  const names = [
    'autocannon',
    'hono',
    '@hono/node-server',
    'better-sqlite3',
    '@node-rs/argon2',
    'express',
    'express-session',
    'connect-redis',
    'redis',
    'iron-session',
    'better-auth',
    'jsonwebtoken',
    'jose',
    'supertokens-web-js',
    'esbuild',
  ];
  return {
    node: process.version,
    latchkey: (
      JSON.parse(readText(join(ROOT, 'packages/core/package.json'))) as { version: string }
    ).version,
    'redis-server': redisVersion ?? 'not reachable',
    ...Object.fromEntries(names.map((n) => [n, read(n)])),
  };
}

async function main() {
  mkdirSync(RESULTS, { recursive: true });
  if (profiled.size > 0) rmSync(PROFILES, { recursive: true, force: true });
  const redisVersion = await connectRedis();
  log(
    `${PLAN.mode} run on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; ` +
      `Redis ${redisVersion ?? `not reachable at ${REDIS_URL}`}`,
  );
  const loadAtStart = os.loadavg();

  const throughput = await throughputRounds(redisVersion);
  const login = await loginBenchmarks();
  log('session lookup');
  const lookup = await lookupBenchmarks(redisVersion);
  log('client library size');
  const clients = await clientSizes();
  for (const c of clients) {
    log(
      'skipped' in c
        ? `client ${c.id}: skipped, ${c.skipped}`
        : `client ${c.id}: ${fmt(c.gzipped)} B min+gzip`,
    );
  }
  log('start-up time of the reference app');
  const startup = await startupBenchmarks(scratch, PLAN.startup.runs, log);
  if ('skipped' in startup) log(`start-up: skipped, ${startup.skipped}`);

  const profiles: Record<string, HotSpot[]> = {};
  for (const name of profiled) {
    const dir = join(PROFILES, name);
    if (existsSync(dir)) profiles[name] = hotSpots(dir);
  }

  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    mode: PLAN.mode,
    plan: PLAN,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryBytes: os.totalmem(),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: os.loadavg(),
    },
    versions: versions(redisVersion),
    contenders: throughput.contenders,
    rounds: throughput.rounds,
    login,
    lookup,
    clientSizes: clients,
    startup,
    targets: [],
    profiles,
  };
  results.targets = evaluateTargets(results);

  writeFileSync(
    join(RESULTS, `${PLAN.mode}-${Date.now()}.json`),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  if (only) {
    log('--only: docs/ left as they were (results in bench/results/)');
  } else {
    await writeReport(results, join(ROOT, 'docs'));
    log('wrote docs/BENCHMARKS.md, docs/benchmarks.svg, docs/benchmarks.json');
  }
  printSummary(results);
}

function printSummary(results: BenchResults) {
  const rows = results.contenders.map((c) =>
    c.status === 'measured'
      ? `  ${c.id.padEnd(28)} ${fmt(c.rps).padStart(8)} req/s  ×${c.ratioToBare.toFixed(2)}  ` +
        `p50 ${fmt(c.p50, 2)} ms  p99 ${fmt(c.p99, 2)} ms  RSS ${fmt((c.peakRssBytes ?? 0) / 2 ** 20)} MB`
      : `  ${c.id.padEnd(28)} skipped: ${c.reason}`,
  );
  process.stdout.write(`\n${rows.join('\n')}\n\nTargets:\n`);
  for (const t of results.targets) {
    process.stdout.write(`  [${t.status.toUpperCase().padEnd(12)}] ${t.target}: ${t.measured}\n`);
  }
  for (const [name, spots] of Object.entries(results.profiles)) {
    process.stdout.write(`\nCPU profile, ${name} (self time):\n`);
    for (const s of spots.slice(0, 15)) {
      process.stdout.write(`  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.fn}  ${s.where}\n`);
    }
  }
}

async function rerender() {
  const results = JSON.parse(readText(join(ROOT, 'docs/benchmarks.json'))) as BenchResults;
  results.targets = evaluateTargets(results);
  await writeReport(results, join(ROOT, 'docs'));
  log('re-rendered docs/BENCHMARKS.md and docs/benchmarks.svg from docs/benchmarks.json');
}

try {
  if (args.includes('--rerender')) await rerender();
  else await main();
} catch (error) {
  process.stderr.write(
    `\nbench failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  for (const s of servers) {
    const tail = s.stderr().trim();
    if (tail) process.stderr.write(`--- ${s.name} stderr ---\n${tail.slice(-1500)}\n`);
  }
  process.exitCode = 1;
} finally {
  await cleanup();
  await redis?.quit().catch(() => undefined);
}
