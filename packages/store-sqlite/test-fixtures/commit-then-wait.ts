// Durability fixture: writes a user and a session, says so, then waits to be
// SIGKILLed by sqlite.test.ts without ever closing the database.
import { createSqliteStore } from '../src/index.js';

const filename = process.argv[2];
if (!filename) throw new Error('usage: commit-then-wait.ts <database file>');

const store = createSqliteStore({ filename });
const now = Date.now();
await store.users.createUser({
  id: 'durable-user',
  email: 'durable@example.test',
  name: null,
  passwordHash: '$argon2id$durable',
  createdAt: now,
  emailVerifiedAt: null,
  mfa: [],
});
await store.sessions.createSession({
  id: 'durable-session',
  userId: 'durable-user',
  secretHash: 'durable-hash',
  previousSecretHash: null,
  rotatedAt: null,
  createdAt: now,
  lastSeenAt: now,
  idleExpiresAt: now + 60_000,
  expiresAt: now + 3_600_000,
  userAgent: null,
  ip: null,
});
process.stdout.write('committed\n');
setInterval(() => undefined, 60_000);
