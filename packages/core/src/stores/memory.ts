import { RateLimiterMemory } from 'rate-limiter-flexible';
import { fromRateLimiterFlexible, rateLimiterFlexibleOptions } from './rate-limiter-flexible.js';
import type { LatchkeyStore, Limiter, SessionRecord, StoredRecord, UserRecord } from './types.js';

/**
 * A store that lives in one process's memory. For unit tests of logic and for
 * trying things out: it loses everything on restart and is not shared between
 * servers. Never use it in production.
 */
export function createMemoryStore(): LatchkeyStore {
  const users = new Map<string, UserRecord>();
  const userIdByEmail = new Map<string, string>();
  const sessions = new Map<string, SessionRecord>();
  const records = new Map<string, StoredRecord>();
  const recordKey = (kind: string, id: string) => `${kind}\u0000${id}`;
  const live = (kind: string, id: string, now: number) => {
    const record = records.get(recordKey(kind, id));
    return record && (record.expiresAt === null || record.expiresAt > now) ? record : undefined;
  };
  // One counter per name, like a real backend: a second limiter object with the same
  // name sees the same counts.
  const limiters = new Map<string, Limiter>();
  const copy = <T extends object>(value: T | undefined): T | null =>
    value === undefined ? null : structuredClone(value);

  return {
    name: 'memory',
    users: {
      createUser(user) {
        if (userIdByEmail.has(user.email) || users.has(user.id)) return Promise.resolve(false);
        users.set(user.id, { ...user, mfa: [...user.mfa] });
        userIdByEmail.set(user.email, user.id);
        return Promise.resolve(true);
      },
      getUserByEmail(email) {
        const id = userIdByEmail.get(email);
        return Promise.resolve(id === undefined ? null : copy(users.get(id)));
      },
      getUserById(id) {
        return Promise.resolve(copy(users.get(id)));
      },
      updateUser(userId, patch) {
        const user = users.get(userId);
        if (user) {
          if (patch.emailVerifiedAt !== undefined) user.emailVerifiedAt = patch.emailVerifiedAt;
          if (patch.mfa !== undefined) user.mfa = [...patch.mfa];
        }
        return Promise.resolve();
      },
      setPasswordHash(userId, passwordHash) {
        const user = users.get(userId);
        if (user) user.passwordHash = passwordHash;
        return Promise.resolve();
      },
      deleteUser(id) {
        const user = users.get(id);
        if (!user) return Promise.resolve(false);
        for (const [sessionId, s] of sessions) if (s.userId === id) sessions.delete(sessionId);
        for (const [key, r] of records) if (r.userId === id) records.delete(key);
        users.delete(id);
        userIdByEmail.delete(user.email);
        return Promise.resolve(true);
      },
    },
    sessions: {
      createSession(session) {
        sessions.set(session.id, { ...session });
        return Promise.resolve();
      },
      getSession(id) {
        return Promise.resolve(copy(sessions.get(id)));
      },
      touchSession(id, lastSeenAt, idleExpiresAt) {
        const session = sessions.get(id);
        if (session) Object.assign(session, { lastSeenAt, idleExpiresAt });
        return Promise.resolve();
      },
      rotateSecret(id, expectedSecretHash, next) {
        const session = sessions.get(id);
        if (!session || session.secretHash !== expectedSecretHash) return Promise.resolve(false);
        Object.assign(session, next);
        return Promise.resolve(true);
      },
      deleteSession(id) {
        return Promise.resolve(sessions.delete(id));
      },
      listUserSessions(userId, now) {
        const list = [...sessions.values()]
          .filter((s) => s.userId === userId && s.expiresAt > now && s.idleExpiresAt > now)
          .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
          .map((s) => ({ ...s }));
        return Promise.resolve(list);
      },
      deleteUserSessions(userId, exceptId) {
        let count = 0;
        for (const [id, s] of sessions) {
          if (s.userId === userId && id !== exceptId) {
            sessions.delete(id);
            count++;
          }
        }
        return Promise.resolve(count);
      },
      deleteExpiredSessions(now) {
        let count = 0;
        for (const [id, s] of sessions) {
          if (s.expiresAt <= now || s.idleExpiresAt <= now) {
            sessions.delete(id);
            count++;
          }
        }
        return Promise.resolve(count);
      },
    },
    records: {
      createRecord(record, now) {
        if (live(record.kind, record.id, now)) return Promise.resolve(false);
        records.set(recordKey(record.kind, record.id), { ...record });
        return Promise.resolve(true);
      },
      getRecord(kind, id, now) {
        return Promise.resolve(copy(live(kind, id, now)));
      },
      takeRecord(kind, id, now) {
        const record = live(kind, id, now);
        records.delete(recordKey(kind, id));
        return Promise.resolve(copy(record));
      },
      replaceRecord(kind, id, expectedData, next, now) {
        const record = live(kind, id, now);
        if (!record || record.data !== expectedData) return Promise.resolve(false);
        Object.assign(record, next);
        return Promise.resolve(true);
      },
      deleteRecord(kind, id) {
        return Promise.resolve(records.delete(recordKey(kind, id)));
      },
      listUserRecords(kind, userId, now) {
        const list = [...records.values()]
          .filter(
            (r) =>
              r.kind === kind && r.userId === userId && (r.expiresAt === null || r.expiresAt > now),
          )
          .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
          .map((r) => ({ ...r }));
        return Promise.resolve(list);
      },
      deleteUserRecords(userId, kind) {
        let count = 0;
        for (const [key, r] of records) {
          if (r.userId === userId && (kind === undefined || r.kind === kind)) {
            records.delete(key);
            count++;
          }
        }
        return Promise.resolve(count);
      },
      deleteExpiredRecords(now) {
        let count = 0;
        for (const [key, r] of records) {
          if (r.expiresAt !== null && r.expiresAt <= now) {
            records.delete(key);
            count++;
          }
        }
        return Promise.resolve(count);
      },
    },
    rateLimits: {
      createLimiter(options) {
        const existing = limiters.get(options.name);
        if (existing) return existing;
        const limiter = fromRateLimiterFlexible(
          new RateLimiterMemory(rateLimiterFlexibleOptions(options)),
        );
        limiters.set(options.name, limiter);
        return limiter;
      },
    },
    ping: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
