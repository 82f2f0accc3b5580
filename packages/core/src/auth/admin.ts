import { fail } from '../errors.js';
import type { SessionRecord, UserRecord } from '../stores/types.js';
import type { PublicUser } from '../wire.js';
import type { AuthContext, Result } from './context.js';
import { deleteAccount } from './delete-account.js';
import { toPublicUser } from './public.js';

/*
 * The operator's operations: an account found by its email, its sessions listed or
 * revoked, the account deleted (ASVS 7.4.5: an administrator can end any user's
 * sessions). No caller session is involved, so the events say `by: 'operator'`. Like
 * every operation they reach the store only through the context (the guarded store,
 * behind the near-cache where there is one): a revocation evicts the session on every
 * server at once, and a store fault rejects as `store_unavailable`.
 */

/** `by` of the events these operations log. */
export const OPERATOR = 'operator';

/** A session (or refresh family) as an operator sees it: never its secret's hash. */
export interface OperatorSession {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  idleExpiresAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
}

/** The operator's view of accounts and their sessions, by email (see `Latchkey.admin`). */
export interface LatchkeyAdmin {
  /** The account with this email; `not_found` when there is none. */
  findUser(email: string): Promise<Result<{ user: PublicUser }>>;
  /** The account's sessions that have not expired, oldest first. */
  listSessions(email: string): Promise<Result<{ user: PublicUser; sessions: OperatorSession[] }>>;
  /** Ends one session of the account; `not_found` when it is not one of theirs. */
  revokeSession(
    email: string,
    sessionId: string,
  ): Promise<Result<{ user: PublicUser; sessionId: string }>>;
  /** Ends every session of the account; `revoked` counts them. */
  revokeSessions(email: string): Promise<Result<{ user: PublicUser; revoked: number }>>;
  /** Ends every session of the account, then deletes it; its email is free again. */
  deleteUser(email: string): Promise<Result<{ user: PublicUser; sessionsRevoked: number }>>;
}

const iso = (ms: number) => new Date(ms).toISOString();

function toOperatorSession(session: SessionRecord): OperatorSession {
  return {
    id: session.id,
    createdAt: iso(session.createdAt),
    lastSeenAt: iso(session.lastSeenAt),
    idleExpiresAt: iso(session.idleExpiresAt),
    expiresAt: iso(session.expiresAt),
    userAgent: session.userAgent,
    ip: session.ip,
  };
}

/** The account with this email, normalised as the HTTP schemas do (trimmed, lower-case). */
export async function findUserByEmail(
  ctx: AuthContext,
  email: string,
): Promise<Result<{ user: UserRecord }>> {
  const user = await ctx.store.users.getUserByEmail(email.trim().toLowerCase());
  if (!user)
    return { ok: false, error: fail('not_found', { message: 'No account has this email.' }) };
  return { ok: true, user };
}

export async function listUserSessions(
  ctx: AuthContext,
  email: string,
): Promise<Result<{ user: PublicUser; sessions: OperatorSession[] }>> {
  const found = await findUserByEmail(ctx, email);
  if (!found.ok) return found;
  const sessions = await ctx.store.sessions.listUserSessions(found.user.id, ctx.now());
  return { ok: true, user: toPublicUser(found.user), sessions: sessions.map(toOperatorSession) };
}

export async function revokeUserSession(
  ctx: AuthContext,
  email: string,
  sessionId: string,
): Promise<Result<{ user: PublicUser; sessionId: string }>> {
  const found = await findUserByEmail(ctx, email);
  if (!found.ok) return found;
  const { user } = found;
  const target = await ctx.store.sessions.getSession(sessionId);
  if (target?.userId !== user.id || !(await ctx.store.sessions.deleteSession(target.id))) {
    return {
      ok: false,
      error: fail('not_found', { message: 'This account has no session with this id.' }),
    };
  }
  ctx.log({ event: 'session_revoked', userId: user.id, sessionId: target.id, by: OPERATOR });
  return { ok: true, user: toPublicUser(user), sessionId: target.id };
}

export async function revokeUserSessions(
  ctx: AuthContext,
  email: string,
): Promise<Result<{ user: PublicUser; revoked: number }>> {
  const found = await findUserByEmail(ctx, email);
  if (!found.ok) return found;
  const { user } = found;
  const revoked = await ctx.store.sessions.deleteUserSessions(user.id);
  ctx.log({ event: 'sessions_revoked', userId: user.id, count: revoked, by: OPERATOR });
  return { ok: true, user: toPublicUser(user), revoked };
}

/**
 * Ends the account's sessions (counted, and evicted from every near-cache), runs the
 * app's `onAccountDeleted` hook, then deletes the account with its records, which
 * takes along any session a sign-in in flight started meanwhile (see `deleteAccount`).
 */
export async function deleteUserAccount(
  ctx: AuthContext,
  email: string,
): Promise<Result<{ user: PublicUser; sessionsRevoked: number }>> {
  const found = await findUserByEmail(ctx, email);
  if (!found.ok) return found;
  const { user } = found;
  const { sessionsRevoked } = await deleteAccount(ctx, user.id, OPERATOR);
  return { ok: true, user: toPublicUser(user), sessionsRevoked };
}

/** The operations above bound to a context, as `Latchkey.admin` offers them. */
export function adminOperations(ctx: AuthContext): LatchkeyAdmin {
  return Object.freeze({
    async findUser(email: string) {
      const found = await findUserByEmail(ctx, email);
      return found.ok ? { ok: true as const, user: toPublicUser(found.user) } : found;
    },
    listSessions: (email: string) => listUserSessions(ctx, email),
    revokeSession: (email: string, sessionId: string) => revokeUserSession(ctx, email, sessionId),
    revokeSessions: (email: string) => revokeUserSessions(ctx, email),
    deleteUser: (email: string) => deleteUserAccount(ctx, email),
  });
}
