import type { AuthContext } from '../auth/context.js';
import { randomToken, type Sealer } from '../crypto.js';
import { fail, type LatchkeyError } from '../errors.js';
import type { StoredRecord } from '../stores/types.js';
import { providerFailure, type OidcClient, type ProviderTokens } from './client.js';

/** Record kinds this feature keeps (`ctx.store.records`). */
export const OIDC_RECORDS = {
  /** id = Latchkey session (or refresh family) id; data = `VaultEntry` (tokens sealed). */
  tokens: 'oidc-tokens',
  /** id = session id: one refresh at a time per session, across servers. */
  refreshLock: 'oidc-refresh-lock',
} as const;

/** What an `oidc-tokens` record holds: the provider's ids in clear, the tokens sealed. */
interface VaultEntry {
  /** The provider's subject and session id, for back-channel logout. */
  sub: string;
  sid: string | null;
  /** `ProviderTokens`, sealed (AES-256-GCM, key from the server secret by HKDF). */
  box: string;
}

/** A refresh in progress elsewhere is waited for this long, polling the store. */
const LOCK_TTL_MS = 15_000;
const POLL_MS = 100;

export type AccessResult =
  { ok: true; accessToken: string } | { ok: false; error: LatchkeyError; ended: boolean };

/**
 * The provider's tokens per Latchkey session, kept only on the server and sealed at rest.
 * `access` hands out a fresh access token, refreshing it shortly before it expires:
 * one refresh per session at a time across every server (a create-if-absent lock
 * record; the others poll for the new tokens), swapped in with compare-and-set. A
 * refresh the provider refuses ends the Latchkey session.
 */
export interface TokenVault {
  save(
    session: { id: string; userId: string; expiresAt: number },
    provider: { sub: string; sid: string | null },
    tokens: ProviderTokens,
  ): Promise<void>;
  load(sessionId: string): Promise<{ entry: VaultEntry; tokens: ProviderTokens } | null>;
  /** The user's sessions signed in through the provider, with its sub and sid. */
  sessionsOf(userId: string): Promise<{ sessionId: string; sub: string; sid: string | null }[]>;
  remove(sessionId: string): Promise<void>;
  access(session: { id: string; userId: string }): Promise<AccessResult>;
}

export function createTokenVault(ctx: AuthContext, sealer: Sealer, client: OidcClient): TokenVault {
  const records = ctx.store.records;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const encode = (provider: { sub: string; sid: string | null }, tokens: ProviderTokens) =>
    JSON.stringify({
      sub: provider.sub,
      sid: provider.sid,
      box: sealer.seal(JSON.stringify(tokens)),
    } satisfies VaultEntry);

  const decode = (record: StoredRecord) => {
    const entry = JSON.parse(record.data) as VaultEntry;
    const opened = sealer.open(entry.box);
    // Sealed under a secret no longer configured: as good as gone.
    if (opened === null) return null;
    return { entry, tokens: JSON.parse(opened) as ProviderTokens };
  };

  const fresh = (tokens: ProviderTokens) =>
    tokens.refreshAt === null || ctx.now() < tokens.refreshAt;

  /** The provider refused to refresh: the Latchkey session ends with it, nothing half-signed-in. */
  const end = async (session: { id: string; userId: string }): Promise<AccessResult> => {
    await ctx.store.sessions.deleteSession(session.id);
    await records.deleteRecord(OIDC_RECORDS.tokens, session.id);
    ctx.log({ event: 'session_expired', userId: session.userId, sessionId: session.id });
    return { ok: false, error: fail('session_expired'), ended: true };
  };

  const gone = (): AccessResult => ({ ok: false, error: fail('session_expired'), ended: true });

  /** Holding the lock: refresh once, swap the tokens in with compare-and-set. */
  const refreshHolding = async (
    session: { id: string; userId: string },
    seen: StoredRecord,
  ): Promise<AccessResult | null> => {
    // Someone may have finished a refresh between our read and our lock.
    const current = await records.getRecord(OIDC_RECORDS.tokens, session.id, ctx.now());
    if (!current) return gone();
    const decoded = decode(current);
    if (!decoded) return end(session);
    if (current.data !== seen.data && fresh(decoded.tokens)) {
      return { ok: true, accessToken: decoded.tokens.accessToken };
    }
    const { refreshToken } = decoded.tokens;
    if (!refreshToken) return end(session);
    let next: ProviderTokens;
    try {
      next = await client.refresh(refreshToken, decoded.tokens);
    } catch (error) {
      if (providerFailure(error) === 'refused') return end(session);
      return { ok: false, error: fail('upstream_unavailable', { cause: error }), ended: false };
    }
    const swapped = await records.replaceRecord(
      OIDC_RECORDS.tokens,
      session.id,
      current.data,
      { data: encode(decoded.entry, next), expiresAt: current.expiresAt },
      ctx.now(),
    );
    // Lost only if the session was signed out meanwhile (the record is gone).
    return swapped ? { ok: true, accessToken: next.accessToken } : null;
  };

  return {
    async save(session, provider, tokens) {
      const now = ctx.now();
      await records.deleteRecord(OIDC_RECORDS.tokens, session.id);
      await records.createRecord(
        {
          kind: OIDC_RECORDS.tokens,
          id: session.id,
          userId: session.userId,
          data: encode(provider, tokens),
          createdAt: now,
          expiresAt: session.expiresAt,
        },
        now,
      );
    },

    async load(sessionId) {
      const record = await records.getRecord(OIDC_RECORDS.tokens, sessionId, ctx.now());
      return record ? decode(record) : null;
    },

    async sessionsOf(userId) {
      const list = await records.listUserRecords(OIDC_RECORDS.tokens, userId, ctx.now());
      return list.map((record) => {
        const { sub, sid } = JSON.parse(record.data) as VaultEntry;
        return { sessionId: record.id, sub, sid };
      });
    },

    async remove(sessionId) {
      await records.deleteRecord(OIDC_RECORDS.tokens, sessionId);
    },

    async access(session) {
      const first = await records.getRecord(OIDC_RECORDS.tokens, session.id, ctx.now());
      // A session signed in with a password has no provider tokens to relay.
      if (!first) return { ok: false, error: fail('unauthenticated'), ended: false };
      let seen = first;
      // Counted in polls, not read from the clock (tests may freeze it).
      for (let round = 0; ; round++) {
        const decoded = decode(seen);
        if (!decoded) return end(session);
        if (fresh(decoded.tokens)) return { ok: true, accessToken: decoded.tokens.accessToken };

        const now = ctx.now();
        const owner = randomToken(16);
        const locked = await records.createRecord(
          {
            kind: OIDC_RECORDS.refreshLock,
            id: session.id,
            userId: session.userId,
            data: owner,
            createdAt: now,
            expiresAt: now + LOCK_TTL_MS,
          },
          now,
        );
        if (locked) {
          try {
            const result = await refreshHolding(session, seen);
            if (result) return result;
          } finally {
            // Only our own lock (it may have expired and been taken over).
            const lock = await records.getRecord(OIDC_RECORDS.refreshLock, session.id, ctx.now());
            if (lock?.data === owner)
              await records.deleteRecord(OIDC_RECORDS.refreshLock, session.id);
          }
        } else {
          // Another request (on any server) is refreshing: wait for its tokens.
          await sleep(POLL_MS);
        }
        if (round > LOCK_TTL_MS / POLL_MS + 2) {
          return { ok: false, error: fail('upstream_unavailable'), ended: false };
        }
        const next = await records.getRecord(OIDC_RECORDS.tokens, session.id, ctx.now());
        if (!next) return gone();
        seen = next;
      }
    },
  };
}
