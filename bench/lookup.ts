/**
 * Session lookup latency against the number of stored sessions, in-process (no HTTP):
 * the store's `getSession` alone and the full `authenticate()` (cookie signature, store
 * lookup, secret hash, user lookup). Run by bench/run.ts as its own process, so the
 * millions of rows it generates never sit in the harness's heap; prints one JSON line.
 *
 *   node --conditions=@latchkey/source --import tsx bench/lookup.ts --sizes=1000,100000,1000000 [--backends=sqlite,redis]
 *
 * SQLite: the rows are bulk-inserted straight into latchkey_sessions (and latchkey_users,
 * about four sessions per user) in one transaction, a real file in WAL mode as the store
 * opens it. Redis (when packages/store-redis exists): written through the store's own
 * createUser/createSession, many in flight, under a private key prefix that is deleted
 * afterwards. Lookups pick uniformly random sessions from the whole set (the worst case
 * for caches: real traffic concentrates on the recently active ones). The sizes are
 * measured interleaved, batch by batch, so machine noise lands on all of them alike.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLatchkey,
  type Latchkey,
  type LatchkeyStore,
  type SessionRecord,
  type UserRecord,
} from '../packages/core/src/index.js';
import { createCredentialCodec } from '../packages/core/src/credential.js';
import { createSigner } from '../packages/core/src/crypto.js';
import { createSqliteStore } from '../packages/store-sqlite/src/index.js';
import { percentile } from './lib/load.js';
import { bulkLoad } from './lib/resp.js';

const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef';
const PROBES = 2000;
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36';
const FAKE_HASH = `$argon2id$v=19$m=19456,t=2,p=1$${'A'.repeat(22)}$${'B'.repeat(43)}`;

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const sizes = arg('sizes', '1000,100000').split(',').map(Number);
const backends = arg('backends', 'sqlite,redis').split(',');
const batches = Number(arg('batches', '12'));
const batchSize = Number(arg('batch', '1000'));
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const progress = (text: string) => {
  process.stdout.write(`  lookup: ${text}\n`);
};

interface Probe {
  id: string;
  request: Request;
}

interface Prepared {
  n: number;
  store: LatchkeyStore;
  latchkey: Latchkey;
  probes: Probe[];
  insertMs: number;
  cleanup: () => Promise<void>;
}

const codec = createCredentialCodec(createSigner([SECRET]), 'session');
/** The digest the product stores (its own sha256 is async, as it may run on WebCrypto). */
const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
const id22 = (bytes: Buffer, i: number) => bytes.toString('base64url', i * 16, i * 16 + 16);

/** Which row indexes get a known secret (spread evenly over the insertion order). */
const probeIndexes = (n: number) => {
  const count = Math.min(n, PROBES);
  const step = n / count;
  return new Set(Array.from({ length: count }, (_, k) => Math.floor(k * step)));
};

const instance = (store: LatchkeyStore) =>
  createLatchkey({
    store,
    secrets: [SECRET],
    publicUrl: 'http://127.0.0.1',
    // Rows are written with lastSeenAt = now; a longer touch interval keeps the
    // (separate, once a minute per session) idle-expiry write out of the timed loop.
    session: { touchInterval: '15m' },
    logger: () => undefined,
  });

async function probeRequests(rows: { id: string; secret: string }[]): Promise<Probe[]> {
  return Promise.all(
    rows.map(async ({ id, secret }) => ({
      id,
      request: new Request('http://127.0.0.1/me', {
        headers: { cookie: `__Host-Http-session=${await codec.encode(id, secret)}` },
      }),
    })),
  );
}

async function prepareSqlite(n: number): Promise<Prepared> {
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-lookup-'));
  // The table, not the memory cache: with it on (the default) the same 2,000 probes
  // would be answered from memory after the first pass, at any table size.
  const store = createSqliteStore({ filename: join(dir, 'latchkey.sqlite'), memoryCache: false });
  const started = performance.now();
  const now = Date.now();
  const users = Math.max(1, Math.ceil(n / 4));
  const userIds = Array.from({ length: users }, (_, i) => `u${String(i).padStart(9, '0')}`);
  const ids = randomBytes(16 * n);
  const hashes = randomBytes(32 * n);
  const probeAt = probeIndexes(n);
  const probes: { id: string; secret: string }[] = [];
  const insertUser = store.db.prepare(
    'INSERT INTO latchkey_users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const insertSession = store.db.prepare(
    `INSERT INTO latchkey_sessions (id, user_id, secret_hash, previous_secret_hash, rotated_at,
       created_at, last_seen_at, idle_expires_at, expires_at, user_agent, ip)
     VALUES (?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?)`,
  );
  const bulk = store.db.transaction(() => {
    for (let i = 0; i < users; i++) {
      insertUser.run(userIds[i], `user${i}@example.com`, `User ${i}`, FAKE_HASH, now);
    }
    for (let i = 0; i < n; i++) {
      const id = id22(ids, i);
      let secretHash = hashes.toString('base64url', i * 32, i * 32 + 32);
      if (probeAt.has(i)) {
        const secret = randomBytes(32).toString('base64url');
        probes.push({ id, secret });
        secretHash = sha256(secret);
      }
      insertSession.run(
        id,
        userIds[i % users],
        secretHash,
        now,
        now,
        now + 30 * 60_000,
        now + 12 * 3_600_000,
        USER_AGENT,
        '203.0.113.7',
      );
    }
  });
  // A big page cache for the load only (random-id inserts into a large B-tree), then
  // back to the default the store runs with, so the lookups see what production sees.
  const defaultCache = store.db.pragma('cache_size', { simple: true }) as number;
  store.db.pragma('cache_size = -262144');
  bulk();
  store.db.pragma(`cache_size = ${defaultCache}`);
  const insertMs = performance.now() - started;
  return {
    n,
    store,
    latchkey: instance(store),
    probes: await probeRequests(probes),
    insertMs,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const REDIS_STORE = new URL('../packages/store-redis/src/index.ts', import.meta.url).pathname;

async function prepareRedis(n: number): Promise<Prepared> {
  const module = await import(REDIS_STORE);
  const keyPrefix = `${process.env.BENCH_REDIS_PREFIX ?? 'latchkey-bench'}:lookup:${process.pid}:${n}:`;
  const store = await module.createRedisStore({
    url: redisUrl,
    keyPrefix,
    commandTimeoutMs: 10_000,
  });
  const started = performance.now();
  const now = Date.now();
  const users = Math.max(1, Math.ceil(n / 4));
  const userId = (i: number) => `u${String(i).padStart(9, '0')}`;
  const probeAt = probeIndexes(n);
  const probes: { id: string; secret: string }[] = [];
  const ids = randomBytes(16 * n);
  const hashes = randomBytes(32 * n);
  const session = (i: number): SessionRecord => {
    const id = id22(ids, i);
    let secretHash = hashes.toString('base64url', i * 32, i * 32 + 32);
    if (probeAt.has(i)) {
      const secret = randomBytes(32).toString('base64url');
      probes.push({ id, secret });
      secretHash = sha256(secret);
    }
    return {
      id,
      userId: userId(i % users),
      secretHash,
      previousSecretHash: null,
      rotatedAt: null,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: now + 30 * 60_000,
      expiresAt: now + 12 * 3_600_000,
      userAgent: USER_AGENT,
      ip: '203.0.113.7',
    };
  };
  const user = (i: number): UserRecord => ({
    id: userId(i),
    email: `user${i}@example.com`,
    name: `User ${i}`,
    passwordHash: FAKE_HASH,
    createdAt: now,
    emailVerifiedAt: null,
    mfa: [],
  });
  const chunk = 5000;
  if (typeof module.redisKeys === 'function') {
    // Bulk load in the layout the store documents (redisKeys): a hash per user and per
    // session (expiring as the store sets it), the email keys and each user's session index.
    const keys = module.redisKeys(keyPrefix);
    // Field by field as the store writes them (a null field is left out).
    const userFields = (u: UserRecord) => [
      ...['id', u.id, 'email', u.email, 'name', u.name ?? ''],
      ...['passwordHash', u.passwordHash, 'createdAt', String(u.createdAt)],
    ];
    const sessionFields = (r: SessionRecord) => [
      ...['id', r.id, 'userId', r.userId, 'secretHash', r.secretHash],
      ...['createdAt', String(r.createdAt), 'lastSeenAt', String(r.lastSeenAt)],
      ...['idleExpiresAt', String(r.idleExpiresAt), 'expiresAt', String(r.expiresAt)],
      ...['userAgent', r.userAgent ?? '', 'ip', r.ip ?? ''],
    ];
    function* commands(): Generator<string[]> {
      for (let i = 0; i < users; i++) {
        const u = user(i);
        yield ['HSET', keys.user(u.id), ...userFields(u)];
        yield ['SET', keys.email(u.email), u.id];
      }
      for (let i = 0; i < n; i++) {
        const s = session(i);
        yield ['HSET', keys.session(s.id), ...sessionFields(s)];
        yield ['PEXPIREAT', keys.session(s.id), String(Math.min(s.idleExpiresAt, s.expiresAt))];
        yield ['ZADD', keys.sessionIndex(s.userId), String(s.expiresAt), s.id];
      }
    }
    await bulkLoad(redisUrl, commands());
  } else {
    // No documented layout: go through the store's API, many calls in flight.
    for (let start = 0; start < users; start += chunk) {
      const end = Math.min(users, start + chunk);
      await Promise.all(
        Array.from({ length: end - start }, (_, k) => store.users.createUser(user(start + k))),
      );
    }
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      await Promise.all(
        Array.from({ length: end - start }, (_, k) =>
          store.sessions.createSession(session(start + k)),
        ),
      );
    }
  }
  const insertMs = performance.now() - started;
  return {
    n,
    store,
    latchkey: instance(store),
    probes: await probeRequests(probes),
    insertMs,
    cleanup: async () => {
      const client = store.client;
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 5000);
        cursor = next;
        if (keys.length > 0) await client.unlink(...keys);
      } while (cursor !== '0');
      await store.close();
    },
  };
}

interface Timing {
  /** Median of the per-call latencies, microseconds. */
  p50Us: number;
  p99Us: number;
  /** Calls per second, one at a time. */
  perSecond: number;
}

async function timeBatch(
  prepared: Prepared,
  op: 'getSession' | 'authenticate',
  samples: number[],
): Promise<number> {
  const { probes, store, latchkey } = prepared;
  const started = performance.now();
  for (let k = 0; k < batchSize; k++) {
    const probe = probes[Math.floor(Math.random() * probes.length)]!;
    const t0 = performance.now();
    if (op === 'getSession') {
      const session = await store.sessions.getSession(probe.id);
      if (!session) throw new Error(`getSession(${probe.id}) found nothing at n=${prepared.n}`);
    } else {
      const result = await latchkey.authenticate(probe.request, { remoteAddress: '127.0.0.1' });
      if (!result.ok) {
        throw new Error(`authenticate failed at n=${prepared.n}: ${result.error.code}`);
      }
    }
    samples.push((performance.now() - t0) * 1000);
  }
  return performance.now() - started;
}

async function measure(backend: string, prepare: (n: number) => Promise<Prepared>) {
  const prepared: Prepared[] = [];
  try {
    for (const n of sizes) {
      progress(`${backend}: inserting ${n.toLocaleString('en-US')} sessions`);
      const p = await prepare(n);
      progress(
        `${backend}: ${n.toLocaleString('en-US')} inserted in ${(p.insertMs / 1000).toFixed(1)} s`,
      );
      prepared.push(p);
    }
    const samples = new Map<string, number[]>();
    const busyMs = new Map<string, number>();
    // Warm-up pass, then interleaved batches: every size sees the same noise.
    for (const p of prepared) {
      await timeBatch(p, 'getSession', []);
      await timeBatch(p, 'authenticate', []);
    }
    for (let b = 0; b < batches; b++) {
      for (const p of prepared) {
        for (const op of ['getSession', 'authenticate'] as const) {
          const key = `${p.n}:${op}`;
          const list = samples.get(key) ?? [];
          samples.set(key, list);
          busyMs.set(key, (busyMs.get(key) ?? 0) + (await timeBatch(p, op, list)));
        }
      }
    }
    const timing = (key: string): Timing => {
      const sorted = Float64Array.from(samples.get(key) ?? []).sort();
      return {
        p50Us: percentile(sorted, 50),
        p99Us: percentile(sorted, 99),
        perSecond: (sorted.length / (busyMs.get(key) ?? 1)) * 1000,
      };
    };
    return {
      sizes: prepared.map((p) => ({
        n: p.n,
        insertMs: p.insertMs,
        getSession: timing(`${p.n}:getSession`),
        authenticate: timing(`${p.n}:authenticate`),
      })),
      samplesPerSize: batches * batchSize,
    };
  } finally {
    for (const p of prepared) await p.cleanup();
  }
}

const results: Record<string, unknown> = {};
if (backends.includes('sqlite')) results.sqlite = await measure('sqlite', prepareSqlite);
if (backends.includes('redis')) {
  if (!existsSync(REDIS_STORE)) {
    results.redis = { skipped: 'packages/store-redis is not in this checkout' };
  } else {
    try {
      results.redis = await measure('redis', prepareRedis);
    } catch (error) {
      results.redis = {
        skipped: `Redis lookup failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
}
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
