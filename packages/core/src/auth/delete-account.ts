import { fail } from '../errors.js';
import type { AuthContext } from './context.js';

/**
 * Deletes an account for good (ASVS 7.4.2): every session and refresh family first
 * (each evicted from every server's near-cache at once, so no other server serves
 * the account another request), then the app's own data through its
 * `onAccountDeleted` hook, then the user with every record of theirs (second
 * factors, recovery codes, pending sign-ins, step-up marks, one-time tokens). A hook
 * that throws leaves the account in place, signed out everywhere, and is answered
 * `503 store_unavailable`, so the deletion can be repeated; the store's part is idempotent too. `by`: the caller's session
 * id, or `operator`.
 */
export async function deleteAccount(
  ctx: AuthContext,
  userId: string,
  by: string,
): Promise<{ sessionsRevoked: number }> {
  const sessionsRevoked = await ctx.store.sessions.deleteUserSessions(userId);
  if (ctx.onAccountDeleted) {
    try {
      await ctx.onAccountDeleted(userId);
    } catch (error) {
      // The app's store failed: a fault like the store's own, answered `503` (try again).
      const message = error instanceof Error ? error.name : 'error';
      ctx.log({ event: 'store_unavailable', operation: 'onAccountDeleted', error: message });
      throw fail('store_unavailable', { cause: error });
    }
  }
  // Also takes any session a sign-in in flight started meanwhile, and every record.
  await ctx.store.users.deleteUser(userId);
  ctx.log({ event: 'account_deleted', userId, sessions: sessionsRevoked, by });
  return { sessionsRevoked };
}
