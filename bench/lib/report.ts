import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import type { BenchResults, ContenderResult, LookupBackend, StartupResults } from './types.js';

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || !Number.isFinite(n)
    ? '–'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mb = (bytes: number | null) => (bytes === null ? '–' : `${fmt(bytes / 2 ** 20)} MB`);
const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const cell = (text: string) => text.replace(/\|/g, '\\|');

/** Figures measured before the hot-path work (bench/baseline.json), kept to show its effect. */
interface Baseline {
  description: string;
  changes: string[];
  contenders: Record<string, { rps: number; ratioToBare: number }>;
  targets: Record<string, string>;
}

const BASELINE_FILE = new URL('../baseline.json', import.meta.url);

function baselineSection(r: BenchResults): string {
  if (!existsSync(BASELINE_FILE)) return '';
  const base = JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as Baseline;
  const rows = r.contenders.flatMap((c) => {
    const before = base.contenders[c.id];
    if (!before || c.status !== 'measured') return [];
    return [
      `| ${cell(c.label)} | ${fmt(before.rps)} req/s, ${before.ratioToBare.toFixed(2)}× | ${fmt(c.rps)} req/s, ${c.ratioToBare.toFixed(2)}× |`,
    ];
  });
  const targetRows = r.targets.map(
    (t) => `| ${cell(t.target)} | ${cell(base.targets[t.target] ?? '–')} | ${cell(t.measured)} |`,
  );
  return `## Hot-path changes and their measured effect

${base.description}

${base.changes.map((c) => `- ${c}`).join('\n')}

| Latchkey contender | before (req/s, × bare node:http) | this run |
| --- | ---: | ---: |
${rows.join('\n')}

| Target | before | this run |
| --- | --- | --- |
${targetRows.join('\n')}

Ratios are comparable across runs (each is taken inside its own round); req/s are not, since the machine's speed drifts from run to run (see the drift table above).
`;
}

const COLORS = { bare: '#8a8f98', latchkey: '#0f8a6b', peer: '#4a78c2' } as const;

interface Panel {
  title: string;
  rows: ContenderResult[];
  top: number;
}

const LEFT = 300;
const BAR_AREA = 400;
const ROW = 26;

/** One panel of horizontal bars with its own axis; returns the SVG and its height. */
function panel({ title, rows, top }: Panel): { svg: string; height: number } {
  const measured = rows.filter((r) => r.status === 'measured');
  const max = Math.max(...measured.map((r) => r.rps), 1);
  const steps = [500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000];
  const step = steps.find((s) => max / s <= 6) ?? 100_000;
  const axisMax = Math.ceil(max / step) * step;
  const xOf = (value: number) => LEFT + (value / axisMax) * BAR_AREA;
  const barsTop = top + 14;
  const bottom = barsTop + rows.length * ROW;
  const out: string[] = [`<text x="16" y="${top}" class="panel">${escapeXml(title)}</text>`];
  for (let v = 0; v <= axisMax; v += step) {
    const x = xOf(v).toFixed(1);
    const tick = v === 0 ? '0' : v % 1000 === 0 ? `${v / 1000}k` : `${(v / 1000).toFixed(1)}k`;
    out.push(
      `<line x1="${x}" y1="${barsTop - 4}" x2="${x}" y2="${bottom}" stroke="#e3e5e8"/>`,
      `<text x="${x}" y="${bottom + 15}" text-anchor="middle" class="axis">${tick}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = barsTop + i * ROW;
    out.push(
      `<text x="${LEFT - 10}" y="${y + 17}" text-anchor="end" class="label">${escapeXml(row.label)}</text>`,
    );
    if (row.status === 'skipped') {
      const why = row.reason.startsWith('not available yet') ? 'not available yet' : row.reason;
      out.push(
        `<text x="${LEFT + 4}" y="${y + 17}" class="skipped">not measured: ${escapeXml(why)}</text>`,
      );
      return;
    }
    const w = Math.max(1, xOf(row.rps) - LEFT).toFixed(1);
    out.push(
      `<rect x="${LEFT}" y="${y + 4}" width="${w}" height="${ROW - 8}" rx="2" fill="${COLORS[row.group]}"/>`,
      `<text x="${(xOf(row.rps) + 6).toFixed(1)}" y="${y + 17}" class="value">${fmt(row.rps)} req/s · ${row.ratioToBare.toFixed(2)}× bare</text>`,
    );
  });
  return { svg: out.join('\n'), height: bottom + 20 - top };
}

/**
 * Bar charts of median req/s, written by hand (no chart library): every contender
 * against the bare servers, then the authenticating ones on their own scale.
 */
export function renderChart(results: BenchResults): string {
  const width = 880;
  const first = panel({ title: 'All contenders', rows: results.contenders, top: 76 });
  const second = panel({
    title: 'Only the contenders that authenticate, on their own scale',
    rows: results.contenders.filter((c) => c.group !== 'bare' && c.status === 'measured'),
    top: 76 + first.height + 24,
  });
  const legendY = 76 + first.height + 24 + second.height + 18;
  const height = legendY + 16;
  const legend = (
    [
      ['bare', 'bare server (the limit)'],
      ['latchkey', 'Latchkey'],
      ['peer', 'peer libraries'],
    ] as const
  )
    .map(
      ([group, text], i) =>
        `<rect x="${LEFT + i * 170}" y="${legendY - 10}" width="12" height="12" fill="${COLORS[group]}"/>` +
        `<text x="${LEFT + i * 170 + 18}" y="${legendY}" class="axis">${text}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">
<style>
.title { font-size: 16px; font-weight: 600; fill: #1f2328; }
.panel { font-size: 13px; font-weight: 600; fill: #1f2328; }
.sub { font-size: 12px; fill: #59636e; }
.label { font-size: 13px; fill: #1f2328; }
.value { font-size: 12px; fill: #1f2328; }
.axis { font-size: 11px; fill: #59636e; }
.skipped { font-size: 12px; fill: #8a8f98; font-style: italic; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="16" y="26" class="title">Authenticated GET /me: median req/s (${results.mode} run, ${results.rounds.length} rounds, 50 connections)</text>
<text x="16" y="46" class="sub">Ratios are to bare node:http within the same round. autocannon shares the ${results.machine.cores} cores with the server: compare ratios, not absolute numbers.</text>
${first.svg}
${second.svg}
${legend}
</svg>
`;
}

const statusMark = { met: '✅ met', missed: '❌ missed', 'not measured': '— not measured' };

function throughputTable(rows: ContenderResult[]): string {
  const lines = [
    '| Contender | req/s (median) | × bare node:http (range over rounds) | p50 ms | p99 ms | non-2xx | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    if (row.status === 'skipped') {
      const short = row.reason.startsWith('not available yet') ? 'not available yet' : row.reason;
      lines.push(`| ${cell(row.label)} | _${cell(short)}_ | – | – | – | – | – |`);
      continue;
    }
    lines.push(
      `| ${cell(row.label)} | ${fmt(row.rps)} | ${row.ratioToBare.toFixed(2)} (${row.ratioRange[0].toFixed(2)}–${row.ratioRange[1].toFixed(2)}) | ${fmt(row.p50, 2)} | ${fmt(row.p99, 2)} | ${row.non2xx} | ${mb(row.peakRssBytes)} |`,
    );
  }
  return lines.join('\n');
}

function lookupTable(name: string, backend: LookupBackend): string {
  if ('skipped' in backend) return `**${name}**: skipped — ${backend.skipped}.`;
  const base = backend.sizes.find((s) => s.n === 1_000) ?? backend.sizes[0];
  const lines = [
    `**${name}** (${fmt(backend.samplesPerSize)} timed calls per size and operation)`,
    '',
    '| Stored sessions | Bulk insert | getSession p50 / p99 µs | authenticate() p50 / p99 µs | authenticate() p50 vs 1k | calls/s, one at a time |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of backend.sizes) {
    const ratio = base ? s.authenticate.p50Us / base.authenticate.p50Us : Number.NaN;
    lines.push(
      `| ${fmt(s.n)} | ${fmt(s.insertMs / 1000, 1)} s | ${fmt(s.getSession.p50Us, 1)} / ${fmt(s.getSession.p99Us, 1)} | ${fmt(s.authenticate.p50Us, 1)} / ${fmt(s.authenticate.p99Us, 1)} | ${ratio.toFixed(2)}× | ${fmt(s.authenticate.perSecond)} |`,
    );
  }
  return lines.join('\n');
}

function startupSection(startup: StartupResults | undefined): string {
  if (!startup) return '';
  const heading = '## Start-up time of the reference app\n\n';
  if ('skipped' in startup) return `${heading}Not measured: ${startup.skipped}.\n`;
  const range = (values: number[]) => `${fmt(Math.min(...values))}–${fmt(Math.max(...values))}`;
  const rows = startup.variants.map(
    (v) =>
      `| ${cell(v.label)} | \`${cell(v.command)}\` | ${fmt(v.medianListeningMs)} (${range(v.listeningMs)}) | **${fmt(v.medianFirstOkMs)}** (${range(v.firstOkMs)}) |`,
  );
  return `${heading}From spawning the process to its \`… on http://…\` line, and to the first \`200\` on \`GET /config.json\` (polled every 5 ms): the median of ${startup.runs} starts each, interleaved, in session mode on an existing SQLite file (one untimed start each first creates it and warms the file cache and tsx's transform cache). \`npm start\` builds first (\`tsc -b\`, incremental, and the SPA), then runs the compiled JavaScript; the build is not timed here.

| Start | command | "on http://" line, ms (range) | first 200, ms (range) |
| --- | --- | ---: | ---: |
${rows.join('\n')}
`;
}

export function renderMarkdown(r: BenchResults): string {
  const { login, machine } = r;
  const storm = login.storm;
  const skipped = r.contenders.filter((c) => c.status === 'skipped');
  const plan = r.plan as {
    warmup: number;
    duration: number;
    rounds: number;
    lookup: { sqlite: number[]; redis: number[]; batches: number };
  };
  const roundRows = r.rounds.map(
    (round) =>
      `| ${round.round} | ${fmt(round.bareStart)} | ${fmt(round.bareEnd)} | ${(((round.bareEnd - round.bareStart) / round.bareStart) * 100).toFixed(1)} % | ${round.order.slice(1, -1).join(', ')} |`,
  );
  const clientRows = r.clientSizes.map((c) =>
    'skipped' in c
      ? `| ${cell(c.label)} | ${cell(c.skipped)} | | |`
      : `| ${cell(c.label)} | \`${cell(c.entry)}\` | ${fmt(c.minified)} B | **${fmt(c.gzipped)} B** (${(c.gzipped / 1024).toFixed(2)} KB) |`,
  );
  const profileSections = Object.entries(r.profiles).map(
    ([name, spots]) =>
      `**${name}** (self time, share of non-idle samples)\n\n| share | function | where |\n| ---: | --- | --- |\n` +
      spots
        .slice(0, 15)
        .map((s) => `| ${(s.share * 100).toFixed(1)} % | \`${cell(s.fn)}\` | ${cell(s.where)} |`)
        .join('\n'),
  );

  return `# Benchmarks

Generated by \`npm run bench${r.mode === 'quick' ? ' -- --quick' : ''}\` on ${r.generatedAt.slice(0, 10)} (${r.mode} run, ${Math.round(r.durationSeconds / 60)} min). Do not edit by hand: rerun it. Raw numbers: [benchmarks.json](benchmarks.json). The harness is in [\`bench/\`](../bench/).

Every request Latchkey serves runs its auth check, so its cost is paid everywhere. This page compares that check with the bare server (the limit) and with what users would pick instead, each serving the same authenticated \`GET /me\` that answers the user id as JSON.

## Targets

| Target (issue 5) | Measured | Status |
| --- | --- | --- |
${r.targets.map((t) => `| ${cell(t.target)} | ${cell(t.measured)} | ${statusMark[t.status]} |`).join('\n')}

## Throughput of an authenticated request

![Authenticated GET /me, median req/s per contender, with the ratio to bare node:http](benchmarks.svg)

${throughputTable(r.contenders)}

req/s is the median over ${plan.rounds} rounds of ${plan.duration} s at 50 connections (bare node:http: over its ${plan.rounds * 2} runs, two per round). The ratio is taken inside each round, against the mean of that round's first and last bare node:http run, and the median over rounds is shown with its range. p50/p99 are medians over rounds of each run's own percentiles, from every response's time (autocannon's own histogram counts whole milliseconds). non-2xx must be 0: a contender that answers anything but 200 aborts the run. Peak RSS is the server process's \`VmHWM\` at the end of its rounds.${skipped.length > 0 ? `\n\nNot measured (no number is estimated for them): ${skipped.map((c) => `${c.label}: ${c.status === 'skipped' ? c.reason : ''}`).join('; ')}. The \`not available yet\` rows are placeholder entries in \`bench/contenders.ts\`, measured as soon as their server script exists.` : ''}

Bare node:http at the start and end of each round, showing how much the machine drifted within a round:

| Round | bare at start, req/s | bare at end, req/s | drift | order in between |
| ---: | ---: | ---: | ---: | --- |
${roundRows.join('\n')}

${baselineSection(r)}
## Login at the configured argon2id cost

Latchkey on SQLite, \`POST /auth/login\` with a correct password (argon2id m = 19 MiB, t = 2, p = 1 on the libuv pool, at most \`password.hashConcurrency\` at once: by default one less than the cores, so 1 here, which caps logins/s at about one core's worth of hashing and keeps the other core for signed-in users' requests; then the rate-limit counters and a new session row written with \`synchronous = FULL\`, on the event loop). The login limit is raised (\`rateLimit: { loginLimit: 1000, addressLimit: 1_000_000 }\`) so rate limiting does not interfere.

| Scenario | logins/s | p50 ms | p99 ms |
| --- | ---: | ---: | ---: |
| one connection (latency of one login) | ${fmt(login.latency.rps, 1)} | ${fmt(login.latency.p50, 1)} | ${fmt(login.latency.p99, 1)} |
| ${login.throughputConnections} connections (throughput) | ${fmt(login.throughput.rps, 1)} | ${fmt(login.throughput.p50, 1)} | ${fmt(login.throughput.p99, 1)} |

**Login storm.** \`GET /me\` runs at a fixed ${fmt(storm.rate)} req/s over ${storm.probeConnections} connections, first alone, then while ${storm.loginConnections} connections log in as fast as the server lets them (same process):

| Pair | /me p99 idle | /me p99 during the storm | ratio | /me p50 idle → during | logins/s during |
| ---: | ---: | ---: | ---: | ---: | ---: |
${storm.pairs.map((p, i) => `| ${i + 1} | ${fmt(p.idle.p99, 2)} ms | ${fmt(p.during.p99, 2)} ms | ${(p.during.p99 / p.idle.p99).toFixed(2)}× | ${fmt(p.idle.p50, 2)} → ${fmt(p.during.p50, 2)} ms | ${fmt(p.logins.rps)} |`).join('\n')}

## Session lookup against the number of stored sessions

In-process, one call at a time: the store's \`getSession\` alone, and the full \`authenticate()\` (cookie signature, session row, secret hash, user row). This is the table (SQLite opened with \`memoryCache: false\`) and Redis without the near-cache: the cold path. By default the SQLite store answers recently read sessions and users from process memory, so a returning session costs the same at any table size; \`authenticate()\` also remembers cookies that verified, so repeats skip the HMAC. Sessions are bulk-inserted straight into the store (about four per user); each call picks at random one of 2,000 sessions spread evenly over the whole set, so consecutive calls land on different pages or keys. SQLite sizes: ${plan.lookup.sqlite.map((n) => fmt(n)).join(', ')}; Redis sizes: ${plan.lookup.redis.map((n) => fmt(n)).join(', ')}${r.mode === 'quick' ? ' (Redis at 1M only in the full run: loading it takes ~20 s)' : ''}. The sizes are measured interleaved, batch by batch.

${lookupTable('SQLite', r.lookup.sqlite)}

${lookupTable('Redis', r.lookup.redis)}

On SQLite the cold lookup is not flat in relative terms: a million rows add a level to each of the two b-trees a lookup descends (the primary-key index, then the table) and spread the probed pages far beyond the CPU caches, a few microseconds in absolute terms. Taking the per-query file locks out (the exclusive lock) cut the 1M lookup more than the 1k one in microseconds but less in proportion, so the ratio grew while every number shrank. What keeps a busy server flat is the memory cache in front of the table (on by default): a session that made a request recently is answered without descending either tree.

## Client library size

Bundled with esbuild for the browser (ESM, es2022, minified), then gzip -9.

| Client | Entry | Minified | Min+gzip |
| --- | --- | ---: | ---: |
${clientRows.join('\n')}

${startupSection(r.startup)}${profileSections.length > 0 ? `\n## CPU profiles (\`--profile\`)\n\n${profileSections.join('\n\n')}\n` : ''}
## Machine and versions

- ${machine.cores} × ${machine.cpu}, ${fmt(machine.memoryBytes / 2 ** 30, 1)} GiB RAM, ${machine.os}
- Load average at start ${machine.loadAverageAtStart.map((n) => n.toFixed(2)).join(' / ')}, at end ${machine.loadAverageAtEnd.map((n) => n.toFixed(2)).join(' / ')} (the machine was shared with other work)
- ${Object.entries(r.versions)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ')}

## Method

- Each contender is its own Node process on 127.0.0.1 (one event loop, no cluster), started with \`node --import tsx\` from a script in \`bench/servers/\` (Latchkey from its TypeScript source, through the \`@latchkey/source\` export condition). Before it is timed, the harness gets a credential through the contender's own API (Latchkey and better-auth: a real sign-up; express-session and iron-session: a login route that sets the session; the JWT contenders: a signed token), checks that \`/me\` answers 200 with the right id, and that \`/me\` without the credential answers 401.
- Load: autocannon ${r.versions.autocannon} in the harness process, 50 keep-alive connections. Each contender gets a ${plan.warmup} s warm-up, then ${plan.rounds} rounds of ${plan.duration} s each. In every round bare node:http runs first and last and every other contender runs once in between (the order rotates from round to round).
- **autocannon shares the ${machine.cores} cores with the server under test**, and other engineers' test runs shared the machine too. Absolute req/s are therefore far below what this code does on a dedicated machine with a separate load generator; only ratios taken within one round are meaningful, which is why every comparison here is one.
- Contenders are configured as their own documentation or the typical tutorial shows: express-session with \`resave: false, saveUninitialized: false\` (MemoryStore, then connect-redis on the shared Redis under a private prefix that is deleted afterwards); iron-session with \`getIronSession(req, res, options)\` in node:http; better-auth with email and password on a better-sqlite3 file, migrated by its own \`getMigrations\`, \`auth.api.getSession({ headers })\` per request; jsonwebtoken \`jwt.verify(token, process.env.JWT_SECRET, cb)\` with the string secret in node:http; jose \`jwtVerify\` of an Ed25519 JWT with a \`KeyObject\` in node:http. Latchkey is mounted in node:http with \`latchkeyNode\` as its README shows (\`isAuthRoute\`, \`routes\`, \`requireAuth\`), answering through its \`json()\` (the JSON answer with its security headers); the Express and Fastify rows use \`latchkeyExpress\` and \`latchkeyFastify\` as their examples do, the reference app rows run \`apps/reference\` (Hono) as \`npm start\` serves it.

## What limits each number

Throughput: with autocannon on the same two cores, the cheapest servers are held back by the load generator itself, so bare node:http and bare Hono measure low and every ratio to them is flattering: the true gap between a contender and the bare server is larger than shown, by an amount this machine cannot measure. Nothing here does real work: one tiny JSON answer over loopback, no TLS, no proxy, no application queries, so in a real app every difference shrinks. One process per contender uses one core; production would run one per core. Latency columns at 50 saturating connections are mostly queueing (p50 ≈ 50 ÷ req/s), not the cost of one request. The contenders do not do the same work: iron-session and the JWT contenders keep no server state, so they cannot revoke a session before it expires; express-session's MemoryStore is documented as not for production; Latchkey checks a signed cookie, hashes the secret, reads the session and the user rows and adds its security headers. Peak RSS is the whole process, including the tsx loader every contender pays alike and the one password hash of the registration (argon2id's 19 MiB for Latchkey, scrypt for better-auth). Login: argon2id runs on the libuv pool, one hash at a time on this 2-core machine (\`hashConcurrency\` = cores − 1), so logins/s is bound by one core's hashing (a deliberate trade: before that limit two cores gave about twice the logins/s, and a login storm made signed-in users' p99 five times worse) and the latency by one hash plus one durable session insert. Login storm: the /me probe is a fixed-rate, non-saturating load; each response's time is measured from when it was sent, so when the server stalls, requests that autocannon could not send meanwhile are not counted (coordinated omission) and the p99 under the storm is a lower bound. Session lookup: in-process and one call at a time, so it measures latency, not throughput; 2,000 sessions spread over the whole set is a cache-unfriendly working set (real traffic concentrates on recently active sessions, which sit close together); the SQLite file sits in the OS page cache of a ${fmt(machine.memoryBytes / 2 ** 30)} GiB machine, so no disk read is measured, and a cold cache or a database larger than RAM is slower; Redis is the machine's shared instance over loopback. Client size: one bundler (esbuild) with one entry per client; an app's bundler and the parts it imports change the number, and the peers are measured with the smallest usage that does something.

## Reproduce

\`\`\`sh
npm run bench -- --quick   # < 3 minutes: 3 rounds of 2 s, SQLite lookup up to 1M, Redis up to 100k
npm run bench              # ≈ 10 minutes: 5 rounds of 6 s, lookups up to 1M on both stores
npm run bench -- --profile=latchkey-sqlite,login,lookup   # also node --cpu-prof, summarised here
\`\`\`

\`npm run bench\` installs \`bench/\`'s own dependencies (not part of the root install, never run by \`npm test\`) and needs Redis at \`REDIS_URL\` (default \`redis://127.0.0.1:6379\`) for the Redis rows; without it those rows are skipped with the reason. Adding a contender is one entry in \`bench/contenders.ts\` plus its server script in \`bench/servers/\`.
`;
}

/** Writes docs/benchmarks.json, docs/benchmarks.svg and docs/BENCHMARKS.md (prettier-formatted). */
export async function writeReport(results: BenchResults, docs: string): Promise<void> {
  const format = async (file: string, text: string) => {
    const config = (await prettier.resolveConfig(file)) ?? {};
    return prettier.format(text, { ...config, filepath: file });
  };
  const json = join(docs, 'benchmarks.json');
  writeFileSync(json, await format(json, JSON.stringify(results)));
  writeFileSync(join(docs, 'benchmarks.svg'), renderChart(results));
  const md = join(docs, 'BENCHMARKS.md');
  writeFileSync(md, await format(md, renderMarkdown(results)));
}
