/**
 * Every server the throughput rounds drive. Adding one is one entry here plus its server
 * script under bench/servers/ (see lib/server.ts for the protocol). An entry whose script
 * does not exist yet is skipped with its `pending` reason printed; nothing is ever
 * estimated for it.
 */

/** How the harness obtains a credential for `GET /me`, through the contender's own API. */
export type CredentialKind =
  /** Nothing to obtain: the bare servers answer /me without authentication. */
  | 'none'
  /** Latchkey: `POST /auth/register`, then the `__Host-Http-session` cookie it sets. */
  | 'latchkey-session'
  /** Latchkey token mode: `POST /auth/register`, then `Authorization: Bearer <accessToken>`. */
  | 'latchkey-token'
  /** `POST /login` sets a session cookie (express-session, iron-session). */
  | 'login-cookie'
  /** `POST /login` answers `{ token }`, sent as `Authorization: Bearer`. */
  | 'login-bearer'
  /** better-auth: `POST /api/auth/sign-up/email`, then the session cookie it sets. */
  | 'better-auth';

export interface Contender {
  /** Stable id, used in docs/benchmarks.json and by the targets. */
  id: string;
  label: string;
  /** The server script, relative to bench/. */
  server: string;
  credential: CredentialKind;
  group: 'bare' | 'latchkey' | 'peer';
  /** Needs the shared Redis (process.env.REDIS_URL). */
  redis?: boolean;
  /**
   * The authenticated route the rounds drive, when it is not `GET /me` (the reference
   * app's own routes). Such a route must answer 200 with the credential and 401
   * without; its body is not checked for the user id.
   */
  path?: string;
  /** What the entry will measure, printed while its server script does not exist. */
  pending?: string;
}

export const BARE_NODE = 'node-bare';

export const CONTENDERS: Contender[] = [
  {
    id: BARE_NODE,
    label: 'bare node:http',
    server: 'servers/node-bare.ts',
    credential: 'none',
    group: 'bare',
  },
  {
    id: 'node-bare-headers',
    label: "bare node:http + API.md's security headers (no auth)",
    server: 'servers/node-bare-headers.ts',
    credential: 'none',
    group: 'bare',
  },
  {
    id: 'hono-bare',
    label: 'bare Hono (@hono/node-server)',
    server: 'servers/hono-bare.ts',
    credential: 'none',
    group: 'bare',
  },
  {
    id: 'latchkey-sqlite',
    label: 'Latchkey session, SQLite',
    server: 'servers/latchkey-sqlite.ts',
    credential: 'latchkey-session',
    group: 'latchkey',
  },
  {
    id: 'latchkey-redis',
    label: 'Latchkey session, Redis',
    server: 'servers/latchkey-redis.ts',
    credential: 'latchkey-session',
    group: 'latchkey',
    redis: true,
  },
  {
    id: 'latchkey-redis-near-cache',
    label: 'Latchkey session, Redis + near-cache',
    server: 'servers/latchkey-redis-near-cache.ts',
    credential: 'latchkey-session',
    group: 'latchkey',
    redis: true,
  },
  {
    id: 'latchkey-postgres',
    label: 'Latchkey session, PostgreSQL',
    server: 'servers/latchkey-postgres.ts',
    credential: 'latchkey-session',
    group: 'latchkey',
  },
  {
    id: 'latchkey-postgres-near-cache',
    label: 'Latchkey session, PostgreSQL + near-cache (LISTEN/NOTIFY)',
    server: 'servers/latchkey-postgres-near-cache.ts',
    credential: 'latchkey-session',
    group: 'latchkey',
  },
  {
    id: 'latchkey-token',
    label: 'Latchkey token mode (EdDSA access token)',
    server: 'servers/latchkey-token.ts',
    credential: 'latchkey-token',
    group: 'latchkey',
  },
  {
    id: 'latchkey-token-stateless',
    label: 'Latchkey token mode, statelessAccess (no liveness read)',
    server: 'servers/latchkey-token-stateless.ts',
    credential: 'latchkey-token',
    group: 'latchkey',
  },
  // --- The reference app (apps/reference), as `npm start` serves it: Hono, the notes API. ---
  {
    id: 'reference-notes',
    label: 'Reference app, GET /api/notes (Hono, SQLite)',
    server: 'servers/reference-app.ts',
    credential: 'latchkey-session',
    group: 'latchkey',
    path: '/api/notes',
  },
  {
    id: 'reference-session',
    label: 'Reference app, GET /auth/session (Hono, SQLite)',
    server: 'servers/reference-app.ts',
    credential: 'latchkey-session',
    group: 'latchkey',
    path: '/auth/session',
  },
  // --- The framework adapters, each judged against its own bare framework. ---
  {
    id: 'express-bare',
    label: 'bare Express 5',
    server: 'servers/express-bare.ts',
    credential: 'none',
    group: 'bare',
  },
  {
    id: 'express-latchkey',
    label: 'Latchkey session, SQLite, in Express (latchkeyExpress)',
    server: 'servers/express-latchkey.ts',
    credential: 'latchkey-session',
    group: 'latchkey',
  },
  {
    id: 'fastify-bare',
    label: 'bare Fastify 5',
    server: 'servers/fastify-bare.ts',
    credential: 'none',
    group: 'bare',
  },
  {
    id: 'fastify-latchkey',
    label: 'Latchkey session, SQLite, in Fastify (latchkeyFastify)',
    server: 'servers/fastify-latchkey.ts',
    credential: 'latchkey-session',
    group: 'latchkey',
  },
  // --- Peers (bench/package.json devDependencies). ---
  {
    id: 'express-session-memory',
    label: 'express + express-session (MemoryStore)',
    server: 'servers/express-session-memory.ts',
    credential: 'login-cookie',
    group: 'peer',
  },
  {
    id: 'express-session-redis',
    label: 'express + express-session + connect-redis',
    server: 'servers/express-session-redis.ts',
    credential: 'login-cookie',
    group: 'peer',
    redis: true,
  },
  {
    id: 'iron-session',
    label: 'iron-session (sealed cookie)',
    server: 'servers/iron-session.ts',
    credential: 'login-cookie',
    group: 'peer',
  },
  {
    id: 'better-auth',
    label: 'better-auth getSession, SQLite',
    server: 'servers/better-auth.ts',
    credential: 'better-auth',
    group: 'peer',
  },
  {
    id: 'jsonwebtoken',
    label: 'jsonwebtoken HS256, string secret',
    server: 'servers/jsonwebtoken.ts',
    credential: 'login-bearer',
    group: 'peer',
  },
  {
    id: 'jose-eddsa',
    label: 'jose EdDSA verify',
    server: 'servers/jose-eddsa.ts',
    credential: 'login-bearer',
    group: 'peer',
  },
];
