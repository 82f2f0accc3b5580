import type { ClientInfo } from '../session.js';
import type { SessionRecord } from '../stores/types.js';
import type { AuthContext, Caller } from './context.js';

/** A fresh sign-in, as values: the transport turns them into cookies and JSON. */
export interface SignIn {
  readonly session: SessionRecord;
  /** The credential cookie's value: the session (session mode) or refresh token. */
  readonly credential: string;
  /** The device cookie's value (a fresh nonce for this account). */
  readonly device: string;
  /** Token mode: the first access token. */
  readonly access: { readonly token: string; readonly expiresAt: number } | null;
}

/**
 * Starts a session (or refresh family) for a user who just proved who they are,
 * under a fresh id: the one the caller presented, if any, is deleted, never
 * promoted (no fixation). The browser also gets a new device cookie for the account.
 */
export async function startSignIn(
  ctx: AuthContext,
  caller: Caller,
  userId: string,
): Promise<SignIn> {
  const previous = await presentedSession(ctx, caller.presented);
  if (previous) await ctx.store.sessions.deleteSession(previous.id);
  const created = await createCredential(ctx, userId, caller.client);
  return {
    session: created.session,
    credential: created.cookie,
    device: await ctx.devices.issue(userId),
    access: ctx.tokens ? await ctx.tokens.access.issue(userId, created.session.id) : null,
  };
}

/** A new session (session mode) or refresh family (token mode) and its cookie value. */
export function createCredential(ctx: AuthContext, userId: string, client: ClientInfo) {
  return ctx.tokens
    ? ctx.tokens.refresh.create(userId, client)
    : ctx.sessions.create(userId, client);
}

/** The session or family a presented credential belongs to, if it is still ours. */
export async function presentedSession(
  ctx: AuthContext,
  presented: string | null,
): Promise<SessionRecord | null> {
  if (ctx.tokens) return ctx.tokens.refresh.identify(presented);
  const validation = await ctx.sessions.validate(presented);
  return validation.ok ? validation.session : null;
}
