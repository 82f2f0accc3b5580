import { fail } from '../errors.js';
import type { UserRecord } from '../stores/types.js';
import type { AuthContext, Caller, Result } from './context.js';
import { rateLimited } from './limits.js';
import { startPendingSignIn, type PendingSignIn } from './login-mfa.js';
import { hasSecondFactor } from './second-factor.js';
import { startSignIn, type SignIn } from './sign-in.js';

export interface LoginInput {
  email: string;
  password: string;
}

/**
 * Password sign-in with OWASP's device cookies: a browser holding this account's
 * device cookie is judged on its own failures; every other attempt shares the
 * account's count, so a stranger hammering the account locks out strangers, not the
 * owner. Per-address counting applies to all. Unknown emails spend a real argon2id
 * verification and get the same answer as a wrong password.
 */
export async function login(
  ctx: AuthContext,
  input: LoginInput,
  caller: Caller & { device: string | null },
): Promise<
  Result<
    | { user: UserRecord; signIn: SignIn; pending: null }
    | { user: UserRecord; signIn: null; pending: PendingSignIn }
  >
> {
  const { ip } = caller.client;
  const address = ip ?? 'unknown';
  const device = await ctx.devices.read(caller.device);
  const user = await ctx.store.users.getUserByEmail(input.email);
  const known = device !== null && user !== null && device.userId === user.id;
  const own = known
    ? { limit: ctx.limits.device, key: device.nonce }
    : { limit: ctx.limits.account, key: input.email };
  const [ownOver, addressOver] = await Promise.all([
    own.limit.exceeded(own.key),
    ctx.limits.address.exceeded(address),
  ]);
  const over = ownOver ?? addressOver;
  if (over) {
    const scope = ownOver ? (known ? 'device' : 'account') : 'address';
    ctx.log({ event: 'login_locked', scope, userId: user?.id ?? null, ip });
    return { ok: false, error: rateLimited(over) };
  }

  const priority = known ? 'known_device' : 'login';
  const valid = user
    ? await ctx.passwords.verify(user.passwordHash, input.password, priority)
    : await ctx.passwords.verifyAgainstDummy(input.password, priority);
  if (!user || !valid) {
    ctx.log({ event: 'login_failed', userId: user?.id ?? null, ip });
    return { ok: false, error: fail('invalid_credentials') };
  }
  if (await hasSecondFactor(ctx, user.id)) {
    // Half a sign-in: take back this attempt's hits, but keep the earlier failures
    // (code guesses count there too) until the second factor clears them; else a
    // known password would reset the count between rounds of code guesses.
    await Promise.all([own.limit.refund(own.key), ctx.limits.address.refund(address)]);
    const pending = await startPendingSignIn(ctx, user.id, known ? device.nonce : null);
    return { ok: true, user, signIn: null, pending };
  }
  // Only failures count: a good sign-in clears its own count (a known device's
  // success leaves the strangers' count alone) and takes back its address hit.
  await Promise.all([own.limit.reset(own.key), ctx.limits.address.refund(address)]);
  const signIn = await startSignIn(ctx, caller, user.id);
  ctx.log({ event: 'login_succeeded', userId: user.id, sessionId: signIn.session.id, ip });
  return { ok: true, user, signIn, pending: null };
}
