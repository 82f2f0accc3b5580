import { createBoundedCache } from './bounded-cache.js';
import { createCredentialCodec, type CredentialCodec } from './credential.js';
import { constantTimeEqual, randomToken, sha256, type Signer } from './crypto.js';
import type { LatchkeyStore, SessionRecord, UserRecord } from './stores/types.js';

/** Where a session was created from, for the user's own session list. */
export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

export type SessionValidation =
  | {
      ok: true;
      user: UserRecord;
      session: SessionRecord;
      /** A new cookie value when an old signing key matched: re-issue it. */
      renewedCookie: string | null;
    }
  | { ok: false; reason: 'missing' | 'invalid' | 'expired'; session?: SessionRecord };

export const ID_BYTES = 16;
export const SECRET_BYTES = 32;

/**
 * The session strategy: server-side sessions identified by `id.secret`, where the
 * id is a public handle and only a SHA-256 of the 256-bit secret is stored. Knows
 * nothing of HTTP: it turns cookie values into sessions and back.
 */
export interface SessionStrategy {
  create(userId: string, client: ClientInfo): Promise<{ session: SessionRecord; cookie: string }>;
  validate(cookie: string | null): Promise<SessionValidation>;
  csrfToken(session: SessionRecord): Promise<string>;
  verifyCsrfToken(session: SessionRecord, token: string | null): Promise<boolean>;
}

/** The clock and the timeouts a session (or refresh family) lives by. */
export interface SessionTiming {
  now: () => number;
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  /** Least time between two writes that slide the idle expiry. */
  touchIntervalMs: number;
}

/**
 * Stores a new session (or refresh family) under fresh random id and secret, and
 * returns its credential `id.secret.signature`. Shared by both strategies.
 */
export async function createSessionRecord(
  store: LatchkeyStore,
  codec: CredentialCodec,
  timing: SessionTiming,
  userId: string,
  client: ClientInfo,
): Promise<{ session: SessionRecord; cookie: string }> {
  const now = timing.now();
  const id = randomToken(ID_BYTES);
  const secret = randomToken(SECRET_BYTES);
  const expiresAt = now + timing.absoluteTimeoutMs;
  const session: SessionRecord = {
    id,
    userId,
    secretHash: await sha256(secret),
    previousSecretHash: null,
    rotatedAt: null,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: Math.min(now + timing.idleTimeoutMs, expiresAt),
    expiresAt,
    userAgent: client.userAgent?.slice(0, 256) ?? null,
    ip: client.ip?.slice(0, 64) ?? null,
  };
  await store.sessions.createSession(session);
  return { session, cookie: await codec.encode(id, secret) };
}

export function createSessionStrategy(
  store: LatchkeyStore,
  signer: Signer,
  timing: SessionTiming,
): SessionStrategy {
  // Session cookies come back on every request: remember the ones that verified.
  const codec = createCredentialCodec(signer, 'session', { cacheEntries: 10_000 });
  // `GET /session` hands the anti-forgery token out on every call: remember it per session.
  const csrfTokens = createBoundedCache<string>(10_000);
  const csrfToken = async (session: SessionRecord): Promise<string> => {
    const message = `${session.id}.${session.secretHash}`;
    const known = csrfTokens.get(message);
    if (known !== undefined) return known;
    const token = await signer.sign('csrf', message);
    csrfTokens.set(message, token);
    return token;
  };

  return {
    create: (userId, client) => createSessionRecord(store, codec, timing, userId, client),

    async validate(cookie) {
      if (cookie === null) return { ok: false, reason: 'missing' };
      const decoded = await codec.decode(cookie);
      if (!decoded) return { ok: false, reason: 'invalid' };
      const { id, secret } = decoded;

      const session = await store.sessions.getSession(id);
      if (!session || !constantTimeEqual(session.secretHash, decoded.secretHash)) {
        return { ok: false, reason: 'invalid' };
      }
      const now = timing.now();
      if (now >= session.expiresAt || now >= session.idleExpiresAt) {
        await store.sessions.deleteSession(id);
        return { ok: false, reason: 'expired', session };
      }
      const user = await store.users.getUserById(session.userId);
      if (!user) {
        await store.sessions.deleteSession(id);
        return { ok: false, reason: 'invalid' };
      }
      // Slide the idle expiry, but write at most once per touch interval.
      if (now - session.lastSeenAt >= timing.touchIntervalMs) {
        session.lastSeenAt = now;
        session.idleExpiresAt = Math.min(now + timing.idleTimeoutMs, session.expiresAt);
        await store.sessions.touchSession(id, session.lastSeenAt, session.idleExpiresAt);
      }
      return {
        ok: true,
        user,
        session,
        renewedCookie: decoded.renew ? await codec.encode(id, secret) : null,
      };
    },

    // The anti-forgery token is an HMAC of the session's public id and its secret's
    // hash: bound to this session, useless for any other, and stateless to check.
    csrfToken,

    async verifyCsrfToken(session, token) {
      if (token === null) return false;
      // The token this session's key gives now, compared in constant time; a token
      // signed under an older key still verifies (key rotation).
      if (constantTimeEqual(token, await csrfToken(session))) return true;
      return (await signer.verify('csrf', `${session.id}.${session.secretHash}`, token)).valid;
    },
  };
}
