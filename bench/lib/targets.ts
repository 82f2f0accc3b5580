import type { BenchResults, LookupBackend, TargetResult } from './types.js';

const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const x = (n: number) => `${n.toFixed(2)}×`;

/** The targets of issue 5, each judged on ratios taken inside one round. */
export function evaluateTargets(results: BenchResults): TargetResult[] {
  const measured = (id: string) =>
    results.contenders.some((c) => c.id === id && c.status === 'measured');
  /** Median over rounds of a's req/s ÷ b's req/s in the same round. */
  const inRound = (a: string, b: string) =>
    median(results.rounds.map((r) => (r.rps[a] ?? Number.NaN) / (r.rps[b] ?? Number.NaN)));
  const targets: TargetResult[] = [];
  const ratioTarget = (target: string, a: string, b: string, min: number, bLabel: string) => {
    if (!measured(a) || !measured(b)) {
      const missing = [a, b].filter((id) => !measured(id)).join(', ');
      targets.push({
        target,
        measured: `${missing} not measured in this run`,
        status: 'not measured',
      });
      return;
    }
    const ratio = inRound(a, b);
    targets.push({
      target,
      measured: `${x(ratio)} ${bLabel} (median of ${results.rounds.length} in-round ratios)`,
      status: ratio >= min ? 'met' : 'missed',
    });
  };
  ratioTarget(
    'Latchkey session on SQLite ≥ 0.25× bare node:http',
    'latchkey-sqlite',
    'node-bare',
    0.25,
    'bare node:http',
  );
  // Issue 11: what users run, close to the bench's own mount.
  ratioTarget(
    'node:http mount (latchkeyNode, SQLite) ≥ 0.6× bare node:http',
    'latchkey-sqlite',
    'node-bare',
    0.6,
    'bare node:http',
  );
  ratioTarget(
    'Reference app GET /api/notes ≥ 0.5× bare node:http',
    'reference-notes',
    'node-bare',
    0.5,
    'bare node:http',
  );
  ratioTarget(
    'Reference app GET /auth/session ≥ 0.4× bare node:http',
    'reference-session',
    'node-bare',
    0.4,
    'bare node:http',
  );
  ratioTarget(
    'Latchkey session on SQLite ≥ 3× express-session',
    'latchkey-sqlite',
    'express-session-memory',
    3,
    'express-session (MemoryStore)',
  );
  ratioTarget(
    'Latchkey session on SQLite ≥ 8× better-auth',
    'latchkey-sqlite',
    'better-auth',
    8,
    'better-auth getSession',
  );
  ratioTarget(
    'With the near-cache ≥ 0.5× bare node:http',
    'latchkey-redis-near-cache',
    'node-bare',
    0.5,
    'bare node:http',
  );
  ratioTarget(
    'PostgreSQL + near-cache ≥ 0.4× bare node:http',
    'latchkey-postgres-near-cache',
    'node-bare',
    0.4,
    'bare node:http',
  );
  ratioTarget(
    'Token mode ≥ 4× the tutorial jsonwebtoken setup',
    'latchkey-token',
    'jsonwebtoken',
    4,
    'jsonwebtoken',
  );

  // Issue 11: the Express and Fastify adapters, close to their bare framework.
  ratioTarget(
    'Express adapter ≥ 0.8× bare Express',
    'express-latchkey',
    'express-bare',
    0.8,
    'bare Express',
  );
  ratioTarget(
    'Fastify adapter ≥ 0.6× bare Fastify',
    'fastify-latchkey',
    'fastify-bare',
    0.6,
    'bare Fastify',
  );

  const storm = results.login.storm;
  targets.push({
    target: 'Login storm: authenticated p99 ≤ 2× its idle p99',
    measured:
      `${x(storm.ratio)} (/me p99 ${storm.idleP99.toFixed(2)} ms idle → ${storm.duringP99.toFixed(2)} ms ` +
      `during ${storm.loginConnections} concurrent logins, /me at ${storm.rate} req/s)`,
    status: storm.ratio <= 2 ? 'met' : 'missed',
  });

  const lookup = (name: string, backend: LookupBackend) => {
    const target = `Lookup at 1M sessions ≤ 1.2× lookup at 1k (${name})`;
    if ('skipped' in backend) {
      targets.push({ target, measured: `skipped: ${backend.skipped}`, status: 'not measured' });
      return;
    }
    const small = backend.sizes.find((s) => s.n === 1_000);
    const big = backend.sizes.find((s) => s.n === 1_000_000);
    if (!small || !big) {
      targets.push({
        target,
        measured: '1M sessions not measured in this run',
        status: 'not measured',
      });
      return;
    }
    const ratio = big.authenticate.p50Us / small.authenticate.p50Us;
    const store = big.getSession.p50Us / small.getSession.p50Us;
    targets.push({
      target,
      measured:
        `${x(ratio)} for authenticate() p50 (${small.authenticate.p50Us.toFixed(1)} → ` +
        `${big.authenticate.p50Us.toFixed(1)} µs); store getSession alone ${x(store)} ` +
        `(${small.getSession.p50Us.toFixed(1)} → ${big.getSession.p50Us.toFixed(1)} µs)`,
      status: ratio <= 1.2 ? 'met' : 'missed',
    });
  };
  lookup('SQLite', results.lookup.sqlite);
  lookup('Redis', results.lookup.redis);

  const client = results.clientSizes.find((c) => c.id === 'latchkey');
  if (!client || 'skipped' in client) {
    targets.push({
      target: 'Client library ≤ 5 KB min+gzip',
      measured: client?.skipped ?? 'missing',
      status: 'not measured',
    });
  } else {
    targets.push({
      target: 'Client library ≤ 5 KB min+gzip',
      measured: `${(client.gzipped / 1024).toFixed(2)} KB (${client.gzipped} bytes; ${client.minified} minified)`,
      status: client.gzipped <= 5 * 1024 ? 'met' : 'missed',
    });
  }
  return targets;
}
