import type { SessionRecord, SessionStore } from '@latchkey/core/store-kit';
import { primaries } from './connection.js';
import type { RedisKeys } from './keys.js';
import { sessionFields, toSession } from './records.js';
import type { ScriptedRedis } from './scripts.js';

/*
 * Sessions and the per-user session index (key layout in keys.ts). The session key
 * and its user's index lie in different Cluster slots. We chose one round trip on the
 * hot path (`getSession`) over one script for the rare multi-key operations, which
 * therefore run as single-slot steps in an order that keeps the one property that
 * matters: a session that can be used is in its user's index, so revoke-all finds it.
 *
 *   - createSession writes the session first, then adds it to the index. If the second
 *     step fails the call rejects, so the secret is never handed out; the session is
 *     deleted on a best-effort basis and expires by itself anyway.
 *   - So an index entry whose session is missing is never a session still being
 *     created. It is a deleted or expired session, and listing or revoking may drop it.
 *   - deleteUserSessions reads the index, deletes each session (a per-key script that
 *     checks the owner), then removes exactly the ids it read. A session created
 *     meanwhile is not in that read and stays: it counts as created after the revoke,
 *     as it would with SQL.
 *   - The index expires when the last of its sessions does (its TTL is the highest
 *     absolute expiry in it). Every change to the index also drops entries whose
 *     absolute expiry has passed, by the Redis clock that also expires the session
 *     keys, so app servers' clocks can't drop a live session. An empty index is deleted.
 */

/** Lua's unpack() is bounded by the C stack; index changes go in chunks of this many ids. */
const ID_CHUNK = 500;
const SCAN_COUNT = '1000';

export function createSessionStore(redis: ScriptedRedis, keys: RedisKeys): SessionStore {
  /** Every session key starts with this (the layout's `<p>s:`). */
  const sessionKeyStart = keys.session('');

  async function removeFromIndex(userId: string, ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      await redis.latchkeyIndexRemove(keys.sessionIndex(userId), ...ids.slice(i, i + ID_CHUNK));
    }
  }

  return {
    async createSession(session) {
      const expireAt = Math.min(session.idleExpiresAt, session.expiresAt);
      const key = keys.session(session.id);
      await redis.latchkeyPutSession(key, String(expireAt), ...sessionFields(session));
      try {
        await redis.latchkeyIndexAdd(
          keys.sessionIndex(session.userId),
          session.id,
          String(session.expiresAt),
        );
      } catch (error) {
        // Not in the index means revoke-all would miss it: take it back. It also
        // expires by itself, and the caller never gets its secret.
        await redis.del(key).catch(() => undefined);
        throw error;
      }
    },
    async getSession(id) {
      return toSession(await redis.hgetall(keys.session(id)));
    },
    async touchSession(id, lastSeenAt, idleExpiresAt) {
      await redis.latchkeyTouch(keys.session(id), String(lastSeenAt), String(idleExpiresAt));
    },
    async rotateSecret(id, expectedSecretHash, next) {
      const applied = await redis.latchkeyRotate(
        keys.session(id),
        expectedSecretHash,
        next.secretHash,
        next.previousSecretHash === null ? '0' : '1',
        next.previousSecretHash ?? '',
        String(next.rotatedAt),
        String(next.lastSeenAt),
        String(next.idleExpiresAt),
      );
      return applied === 1;
    },
    async deleteSession(id) {
      const userId = await redis.latchkeyDeleteSession(keys.session(id), '');
      if (userId === null) return false;
      await removeFromIndex(userId, [id]);
      return true;
    },
    async listUserSessions(userId, now) {
      const ids = await redis.zrange(keys.sessionIndex(userId), '0', '-1');
      const hashes = await Promise.all(ids.map((id) => redis.hgetall(keys.session(id))));
      const live: SessionRecord[] = [];
      const gone: string[] = [];
      ids.forEach((id, i) => {
        const session = toSession(hashes[i] ?? {});
        if (session?.userId !== userId) gone.push(id);
        else if (session.expiresAt > now && session.idleExpiresAt > now) live.push(session);
      });
      if (gone.length > 0) await removeFromIndex(userId, gone);
      return live.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    },
    async deleteUserSessions(userId, exceptId) {
      const ids = await redis.zrange(keys.sessionIndex(userId), '0', '-1');
      const doomed = ids.filter((id) => id !== exceptId);
      const deleted = await Promise.all(
        doomed.map((id) => redis.latchkeyDeleteSession(keys.session(id), userId)),
      );
      await removeFromIndex(userId, doomed);
      return deleted.filter((owner) => owner !== null).length;
    },
    async deleteExpiredSessions(now) {
      // Redis expires sessions by itself; this sweep is for a `now` ahead of Redis'
      // clock. It walks the whole key prefix (on every primary of a Cluster: SCAN sees
      // one node's keys), so run it rarely or not at all.
      let count = 0;
      for (const node of primaries(redis)) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(
            cursor,
            'MATCH',
            `${sessionKeyStart}*`,
            'COUNT',
            SCAN_COUNT,
          );
          cursor = next;
          const owners = await Promise.all(
            found.map((key) => redis.latchkeyDeleteExpired(key, String(now))),
          );
          const byUser = new Map<string, string[]>();
          owners.forEach((owner, i) => {
            const key = found[i];
            if (owner === null || key === undefined) return;
            const ids = byUser.get(owner) ?? [];
            ids.push(key.slice(sessionKeyStart.length));
            byUser.set(owner, ids);
            count++;
          });
          for (const [userId, ids] of byUser) await removeFromIndex(userId, ids);
        } while (cursor !== '0');
      }
      return count;
    },
  };
}
