import { fail } from '../errors.js';
import type { UserRecord } from '../stores/types.js';
import type { AuthContext, Caller, Result } from './context.js';
import { rateLimited } from './limits.js';
import { checkPassword } from './policy.js';
import { welcome } from './recovery.js';
import { startSignIn, type SignIn } from './sign-in.js';

export interface RegisterInput {
  email: string;
  password: string;
  name: string | null;
}

/**
 * Creates an account and signs it in. Every attempt that gets past validation counts
 * against the address's hourly sign-up budget: each costs a hash, and a taken email
 * reveals that it is registered.
 */
export async function register(
  ctx: AuthContext,
  input: RegisterInput,
  caller: Caller,
): Promise<Result<{ user: UserRecord; signIn: SignIn }>> {
  const { ip } = caller.client;
  const over = await ctx.limits.register.exceeded(ip ?? 'unknown');
  if (over) {
    ctx.log({ event: 'register_limited', ip });
    return { ok: false, error: rateLimited(over) };
  }
  const weak = await checkPassword(ctx.policy, input.password, input);
  if (weak) return { ok: false, error: weak };

  const user: UserRecord = {
    id: crypto.randomUUID(),
    email: input.email,
    name: input.name,
    passwordHash: await ctx.passwords.hash(input.password, 'register'),
    createdAt: ctx.now(),
    emailVerifiedAt: null,
    mfa: [],
  };
  if (!(await ctx.store.users.createUser(user))) return { ok: false, error: fail('email_taken') };
  ctx.log({ event: 'register', userId: user.id, ip });
  // The verification mail starts after the answer: it never slows a sign-up.
  welcome(ctx, user);
  const signIn = await startSignIn(ctx, caller, user.id);
  ctx.log({ event: 'login_succeeded', userId: user.id, sessionId: signIn.session.id, ip });
  return { ok: true, user, signIn };
}
