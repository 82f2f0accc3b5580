import { randomToken, sha256 } from '../crypto.js';
import { fail } from '../errors.js';
import type { UserRecord } from '../stores/types.js';
import type { AuthContext, Caller, Result } from './context.js';
import { startPendingSignIn, type PendingSignIn } from './login-mfa.js';
import { hasSecondFactor } from './second-factor.js';
import { startSignIn, type SignIn } from './sign-in.js';

/** What the provider said about the person, from its verified ID token (and userinfo). */
export interface ProviderIdentity {
  issuer: string;
  sub: string;
  /** The provider's session id (`sid`), when it sends one. */
  sid: string | null;
  email: string | null;
  /** Only `true` from the provider counts: anything else is unverified. */
  emailVerified: boolean;
  name: string | null;
}

/** `oidc-link`: id = hash(issuer, sub) → the local user. `oidc-sid`: hash(issuer, sid) → user. */
export const LINK_RECORD = 'oidc-link';
export const SID_RECORD = 'oidc-sid';

/** Record ids for pairs of provider values: fixed length, no separator ambiguity. */
export const pairId = (issuer: string, value: string) =>
  sha256(`${issuer.length}:${issuer}${value}`);

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/**
 * Signs in the person the provider vouched for. The local user is the one linked to
 * the provider's subject; else an existing account with the same email, but only
 * when the provider says `email_verified: true` (an unverified email would let anyone
 * who types the victim's address at the provider take the account); else a new user.
 * The session starts like a password sign-in (fresh id, device cookie, same events).
 *
 * The provider's word replaces the password, not the account's own second factor: an
 * account with one gets no session here but a pending two-step sign-in (as after a
 * right password), finished by `POST /auth/login/mfa`; `carry` (the provider's
 * identity and tokens, sealed by the caller) waits in it for the completion.
 */
export async function oidcSignIn(
  ctx: AuthContext,
  identity: ProviderIdentity,
  caller: Caller,
  carry: string,
): Promise<
  Result<
    { user: UserRecord; created: boolean } & (
      { signIn: SignIn; pending: null } | { signIn: null; pending: PendingSignIn }
    )
  >
> {
  const users = ctx.store.users;
  const records = ctx.store.records;
  const linkId = await pairId(identity.issuer, identity.sub);
  const now = ctx.now();

  let user: UserRecord | null = null;
  let created = false;
  const link = await records.getRecord(LINK_RECORD, linkId, now);
  if (link?.userId) {
    user = await users.getUserById(link.userId);
    if (!user) await records.deleteRecord(LINK_RECORD, linkId);
  }
  if (!user) {
    const email = identity.email?.trim().toLowerCase() ?? null;
    const usable = email !== null && EMAIL.test(email) ? email : null;
    const existing = usable ? await users.getUserByEmail(usable) : null;
    if (existing) {
      if (!identity.emailVerified) {
        ctx.log({ event: 'login_failed', userId: existing.id, ip: caller.client.ip });
        return {
          ok: false,
          error: fail('email_taken', {
            message:
              'An account with this email already exists. Sign in with its password first; the provider did not confirm the email.',
          }),
        };
      }
      user = existing;
      if (existing.emailVerifiedAt === null) {
        await users.updateUser(existing.id, { emailVerifiedAt: now });
      }
    } else {
      const fresh: UserRecord = {
        id: randomToken(16),
        // Without a usable email the account gets a placeholder nobody can receive mail at.
        email: usable ?? `${linkId.slice(0, 22).toLowerCase()}@oidc.invalid`,
        name: identity.name?.slice(0, 200) ?? null,
        // The hash of a random secret nobody knows: the account signs in through the
        // provider, and a password attempt costs (and answers) what any other does.
        passwordHash: await ctx.passwords.hash(randomToken(32), 'register'),
        createdAt: now,
        emailVerifiedAt: usable && identity.emailVerified ? now : null,
        mfa: [],
      };
      if (!(await users.createUser(fresh))) {
        // Raced with another sign-in of the same person: use theirs if linked, else refuse.
        const raced = await records.getRecord(LINK_RECORD, linkId, ctx.now());
        user = raced?.userId ? await users.getUserById(raced.userId) : null;
        if (!user) return { ok: false, error: fail('email_taken') };
      } else {
        user = fresh;
        created = true;
        ctx.log({ event: 'register', userId: fresh.id, ip: caller.client.ip });
      }
    }
    await records.createRecord(
      { kind: LINK_RECORD, id: linkId, userId: user.id, data: '', createdAt: now, expiresAt: null },
      now,
    );
  }

  if (await hasSecondFactor(ctx, user.id)) {
    const pending = await startPendingSignIn(ctx, user.id, null, carry);
    return { ok: true, user, created, signIn: null, pending };
  }
  const signIn = await startSignIn(ctx, caller, user.id);
  await rememberProviderSession(ctx, identity, user.id, signIn.session.expiresAt);
  ctx.log({
    event: 'login_succeeded',
    userId: user.id,
    sessionId: signIn.session.id,
    ip: caller.client.ip,
  });
  return { ok: true, user, created, signIn, pending: null };
}

/**
 * Back-channel logout may name only the provider's session (`sid`): remember whose it
 * is, for as long as the Latchkey session it started lasts.
 */
export async function rememberProviderSession(
  ctx: AuthContext,
  provider: { issuer: string; sid: string | null },
  userId: string,
  expiresAt: number,
): Promise<void> {
  if (!provider.sid) return;
  const records = ctx.store.records;
  const now = ctx.now();
  const sidId = await pairId(provider.issuer, provider.sid);
  const known = await records.getRecord(SID_RECORD, sidId, now);
  if (known?.userId !== userId || (known.expiresAt ?? 0) < expiresAt) {
    await records.deleteRecord(SID_RECORD, sidId);
    await records.createRecord(
      { kind: SID_RECORD, id: sidId, userId, data: '', createdAt: now, expiresAt },
      now,
    );
  }
}
