import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { LatchkeyConfig } from '../config.js';
import { base64url, fromBase64url, randomToken } from '../crypto.js';
import { fail, type LatchkeyError } from '../errors.js';
import type { StoredRecord, UserRecord } from '../stores/types.js';
import type { AuthContext, Caller, Principal, Result } from './context.js';
import { counted, rateLimited, type CountedLimit } from './limits.js';
import { startSignIn, type SignIn } from './sign-in.js';
import { markRecentlyAuthenticated, requireRecentAuth } from './step-up.js';

/**
 * Passkeys (WebAuthn, discoverable credentials, user verification required). A passkey is a
 * whole sign-in: the authenticator holds the private key (something you have) and unlocked it
 * with a PIN or biometric (something you know or are), so no TOTP is asked after it.
 *
 * Records (`ctx.store.records`):
 * - `passkey`, id = the credential id, owned by the user: the public key and what the
 *   authenticator reported (sign counter, backup flags, transports), the name and times.
 *   Nothing in it is secret (a public key), but it is integrity-critical: the counter moves
 *   by compare-and-set only.
 * - `webauthn-challenge`, id = the challenge itself (256 random bits), 5 minutes, taken
 *   (atomically deleted) by the one answer that uses it, so an assertion cannot be replayed
 *   and a challenge cannot be used twice. A registration challenge is bound to the user and
 *   the session that asked for it.
 */

export const PASSKEY_KIND = 'passkey';
export const CHALLENGE_KIND = 'webauthn-challenge';
/** How long a ceremony may take, from options to answer. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** Passkeys one account may hold. */
export const MAX_PASSKEYS = 20;

/** Where the ceremonies happen: derived once from the configured public URL. */
export interface PasskeySettings {
  /** The relying party id: the public URL's host name. */
  readonly rpID: string;
  /** The only origin whose ceremonies count. */
  readonly origin: string;
  /** Shown by the authenticator. */
  readonly rpName: string;
  /** Options requests (login and reauth) per client address, per rate-limit window. */
  readonly optionsLimit: CountedLimit;
}

export function passkeySettings(ctx: AuthContext, config: LatchkeyConfig): PasskeySettings {
  return {
    rpID: new URL(config.publicOrigin).hostname,
    origin: config.publicOrigin,
    rpName: config.siteName,
    optionsLimit: counted(
      ctx.store.rateLimits.createLimiter({
        name: 'webauthn-options',
        windowMs: config.rateLimitWindowMs,
      }),
      config.addressLimit * 10,
    ),
  };
}

/** What a `passkey` record's `data` holds (JSON). */
interface PasskeyData {
  /** The handle the API shows and deletes by; not the credential id. */
  publicId: string;
  publicKey: string;
  counter: number;
  transports: string[];
  /** `multiDevice`: may be synced (backup eligible); `singleDevice`: bound to one authenticator. */
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

interface ChallengeData {
  purpose: 'register' | 'login';
  /** Registration: the session that asked (under a recent proof of identity). */
  sessionId: string | null;
}

/** A passkey as the API shows it. */
export interface PasskeyInfo {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

const toInfo = (data: PasskeyData): PasskeyInfo => ({
  id: data.publicId,
  name: data.name,
  createdAt: data.createdAt,
  lastUsedAt: data.lastUsedAt,
});

const encoder = new TextEncoder();
/** The WebAuthn user handle: the user's opaque id (never the email). */
const userHandle = (userId: string) => base64url(encoder.encode(userId));

/** A failed ceremony: one safe, constant answer, whatever went wrong. */
const refused = (): LatchkeyError =>
  fail('invalid_credentials', { message: 'The passkey could not be verified.' });

function parsePasskey(record: StoredRecord): PasskeyData {
  return JSON.parse(record.data) as PasskeyData;
}

/** The challenge a browser answered, read from its `clientDataJSON` (not yet trusted). */
function answeredChallenge(clientDataJSON: string): string | null {
  const bytes = fromBase64url(clientDataJSON);
  if (!bytes) return null;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as { challenge?: unknown };
    return typeof parsed.challenge === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(parsed.challenge)
      ? parsed.challenge
      : null;
  } catch {
    return null;
  }
}

async function issueChallenge(
  ctx: AuthContext,
  challenge: string,
  userId: string | null,
  data: ChallengeData,
): Promise<void> {
  const now = ctx.now();
  await ctx.store.records.createRecord(
    {
      kind: CHALLENGE_KIND,
      id: challenge,
      userId,
      data: JSON.stringify(data),
      createdAt: now,
      expiresAt: now + CHALLENGE_TTL_MS,
    },
    now,
  );
}

/** Takes (deletes) the challenge the answer names: whatever happens next, it is spent. */
async function takeChallenge(
  ctx: AuthContext,
  clientDataJSON: string,
): Promise<{ challenge: string; userId: string | null; data: ChallengeData } | null> {
  const challenge = answeredChallenge(clientDataJSON);
  if (!challenge) return null;
  const record = await ctx.store.records.takeRecord(CHALLENGE_KIND, challenge, ctx.now());
  if (!record) return null;
  return { challenge, userId: record.userId, data: JSON.parse(record.data) as ChallengeData };
}

/** Keeps `user.mfa` (what the user is shown) in step with whether any passkey is left. */
async function syncMfa(ctx: AuthContext, userId: string): Promise<UserRecord | null> {
  const [user, passkeys] = await Promise.all([
    ctx.store.users.getUserById(userId),
    ctx.store.records.listUserRecords(PASSKEY_KIND, userId, ctx.now()),
  ]);
  if (!user) return null;
  const has = user.mfa.includes('passkey');
  const should = passkeys.length > 0;
  if (has === should) return user;
  const mfa = should ? [...user.mfa, 'passkey'] : user.mfa.filter((f) => f !== 'passkey');
  await ctx.store.users.updateUser(userId, { mfa });
  return { ...user, mfa };
}

/**
 * `POST /auth/passkeys/register/options`: creation options for the signed-in user, after a
 * recent proof of identity. Resident key and user verification required; the user's own
 * passkeys are excluded, so one authenticator is not registered twice.
 */
export async function passkeyRegistrationOptions(
  ctx: AuthContext,
  settings: PasskeySettings,
  principal: Principal,
): Promise<Result<{ options: PublicKeyCredentialCreationOptionsJSON }>> {
  const recent = await requireRecentAuth(ctx, principal);
  if (!recent.ok) return recent;
  const user = await ctx.store.users.getUserById(principal.userId);
  if (!user) return { ok: false, error: fail('unauthenticated') };
  const existing = await ctx.store.records.listUserRecords(PASSKEY_KIND, user.id, ctx.now());
  const options = await generateRegistrationOptions({
    rpName: settings.rpName,
    rpID: settings.rpID,
    userName: user.email,
    userID: encoder.encode(user.id),
    userDisplayName: user.name ?? user.email,
    challenge: crypto.getRandomValues(new Uint8Array(32)),
    timeout: CHALLENGE_TTL_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((record) => ({
      id: record.id,
      transports: parsePasskey(record).transports,
    })),
    authenticatorSelection: {
      residentKey: 'required',
      requireResidentKey: true,
      userVerification: 'required',
    },
  });
  await issueChallenge(ctx, options.challenge, user.id, {
    purpose: 'register',
    sessionId: principal.sessionId,
  });
  return { ok: true, options };
}

/**
 * `POST /auth/passkeys/register`: verifies the new credential against the challenge this
 * session was given (taken, so it works once), with user verification, the configured
 * origin and RP id, and stores it.
 */
export async function registerPasskey(
  ctx: AuthContext,
  settings: PasskeySettings,
  principal: Principal,
  input: { response: RegistrationResponseJSON; name: string | null },
): Promise<Result<{ passkey: PasskeyInfo; user: UserRecord | null }>> {
  const taken = await takeChallenge(ctx, input.response.response.clientDataJSON);
  if (
    !taken ||
    taken.data.purpose !== 'register' ||
    taken.userId !== principal.userId ||
    taken.data.sessionId !== principal.sessionId
  ) {
    return { ok: false, error: refused() };
  }
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response: input.response,
      expectedChallenge: taken.challenge,
      expectedOrigin: settings.origin,
      expectedRPID: settings.rpID,
      requireUserVerification: true,
    });
  } catch {
    return { ok: false, error: refused() };
  }
  if (!verified.verified) return { ok: false, error: refused() };
  const info = verified.registrationInfo;
  const now = ctx.now();
  const existing = await ctx.store.records.listUserRecords(PASSKEY_KIND, principal.userId, now);
  if (existing.length >= MAX_PASSKEYS) {
    return {
      ok: false,
      error: fail('invalid_request', { message: 'This account has too many passkeys.' }),
    };
  }
  const data: PasskeyData = {
    publicId: randomToken(16),
    publicKey: base64url(info.credential.publicKey),
    counter: info.credential.counter,
    transports: info.credential.transports ?? [],
    deviceType: info.credentialDeviceType,
    backedUp: info.credentialBackedUp,
    name: input.name ?? 'Passkey',
    createdAt: now,
    lastUsedAt: null,
  };
  const created = await ctx.store.records.createRecord(
    {
      kind: PASSKEY_KIND,
      id: info.credential.id,
      userId: principal.userId,
      data: JSON.stringify(data),
      createdAt: now,
      expiresAt: null,
    },
    now,
  );
  if (!created) {
    return {
      ok: false,
      error: fail('invalid_request', { message: 'This passkey is already registered.' }),
    };
  }
  const user = await syncMfa(ctx, principal.userId);
  ctx.log({
    event: 'mfa_changed',
    userId: principal.userId,
    sessionId: principal.sessionId,
    factor: 'passkey',
    change: 'added',
  });
  return { ok: true, passkey: toInfo(data), user };
}

/** `GET /auth/passkeys`: the caller's passkeys, oldest first. */
export async function listPasskeys(ctx: AuthContext, principal: Principal): Promise<PasskeyInfo[]> {
  const records = await ctx.store.records.listUserRecords(
    PASSKEY_KIND,
    principal.userId,
    ctx.now(),
  );
  return records.map((record) => toInfo(parsePasskey(record)));
}

/**
 * `DELETE /auth/passkeys/:id`, after a recent proof of identity: one of the caller's own
 * passkeys (any other id, another user's included, is `404`). The last one takes `passkey`
 * off the user's factors.
 */
export async function removePasskey(
  ctx: AuthContext,
  principal: Principal,
  publicId: string,
): Promise<Result<object>> {
  const recent = await requireRecentAuth(ctx, principal);
  if (!recent.ok) return recent;
  const records = await ctx.store.records.listUserRecords(
    PASSKEY_KIND,
    principal.userId,
    ctx.now(),
  );
  const record = records.find((r) => parsePasskey(r).publicId === publicId);
  if (!record || !(await ctx.store.records.deleteRecord(PASSKEY_KIND, record.id))) {
    return { ok: false, error: fail('not_found') };
  }
  await syncMfa(ctx, principal.userId);
  ctx.log({
    event: 'mfa_changed',
    userId: principal.userId,
    sessionId: principal.sessionId,
    factor: 'passkey',
    change: 'removed',
  });
  return { ok: true };
}

/**
 * `POST /auth/passkeys/login/options`: request options for a discoverable credential (no
 * email asked, `allowCredentials` empty), user verification required. Also the challenge
 * for a passkey step-up (`POST /auth/reauth`). Limited per client address.
 */
export async function passkeyLoginOptions(
  ctx: AuthContext,
  settings: PasskeySettings,
  caller: Caller,
): Promise<Result<{ options: PublicKeyCredentialRequestOptionsJSON }>> {
  const over = await settings.optionsLimit.exceeded(caller.client.ip ?? 'unknown');
  if (over) return { ok: false, error: rateLimited(over) };
  const options = await generateAuthenticationOptions({
    rpID: settings.rpID,
    challenge: crypto.getRandomValues(new Uint8Array(32)),
    timeout: CHALLENGE_TTL_MS,
    userVerification: 'required',
    allowCredentials: [],
  });
  await issueChallenge(ctx, options.challenge, null, { purpose: 'login', sessionId: null });
  return { ok: true, options };
}

/**
 * Verifies an assertion: the challenge (taken: single use), the credential (the user
 * handle, if sent, must be its owner's), signature, origin, RP id, user verification, and a
 * sign counter that moved forward (when the authenticator keeps one). The new counter,
 * last use and backup state are written by compare-and-set, so two racing uses of one
 * counter value cannot both pass.
 */
async function verifyAssertion(
  ctx: AuthContext,
  settings: PasskeySettings,
  response: AuthenticationResponseJSON,
): Promise<{ ok: true; userId: string } | { ok: false; userId: string | null }> {
  const taken = await takeChallenge(ctx, response.response.clientDataJSON);
  if (!taken || taken.data.purpose !== 'login') return { ok: false, userId: null };
  const record = await ctx.store.records.getRecord(PASSKEY_KIND, response.id, ctx.now());
  if (!record?.userId) return { ok: false, userId: null };
  const userId = record.userId;
  const handle = response.response.userHandle;
  if (handle !== undefined && handle !== userHandle(userId)) return { ok: false, userId };

  let current = record;
  for (let attempt = 0; attempt < 3; attempt++) {
    const data = parsePasskey(current);
    const publicKey = fromBase64url(data.publicKey);
    if (!publicKey) return { ok: false, userId };
    let verified;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: taken.challenge,
        expectedOrigin: settings.origin,
        expectedRPID: settings.rpID,
        credential: {
          id: current.id,
          publicKey,
          counter: data.counter,
          transports: data.transports,
        },
        requireUserVerification: true,
      });
    } catch {
      // A bad signature, a wrong origin or RP id, no user verification, or a counter that
      // did not move forward (a cloned authenticator or a replay).
      return { ok: false, userId };
    }
    if (!verified.verified || !verified.authenticationInfo.userVerified) {
      return { ok: false, userId };
    }
    const info = verified.authenticationInfo;
    const next: PasskeyData = {
      ...data,
      counter: info.newCounter,
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      lastUsedAt: ctx.now(),
    };
    const replaced = await ctx.store.records.replaceRecord(
      PASSKEY_KIND,
      current.id,
      current.data,
      { data: JSON.stringify(next), expiresAt: null },
      ctx.now(),
    );
    if (replaced) return { ok: true, userId };
    // Someone used or changed the passkey meanwhile: check again against what is stored now
    // (its counter may have passed ours), or fail if it was removed.
    const again = await ctx.store.records.getRecord(PASSKEY_KIND, current.id, ctx.now());
    if (!again) return { ok: false, userId };
    current = again;
  }
  return { ok: false, userId };
}

/**
 * `POST /auth/passkeys/login`: a whole sign-in (no password, no TOTP: the passkey is two
 * factors). Every attempt counts toward the client address's limit, and a success takes its
 * hit back, as password sign-in does; a success starts a session like any sign-in.
 */
export async function passkeyLogin(
  ctx: AuthContext,
  settings: PasskeySettings,
  response: AuthenticationResponseJSON,
  caller: Caller,
): Promise<Result<{ user: UserRecord; signIn: SignIn }>> {
  const { ip } = caller.client;
  const address = ip ?? 'unknown';
  const over = await ctx.limits.address.exceeded(address);
  if (over) {
    ctx.log({ event: 'login_locked', scope: 'address', userId: null, ip, method: 'passkey' });
    return { ok: false, error: rateLimited(over) };
  }
  const verified = await verifyAssertion(ctx, settings, response);
  const user = verified.ok ? await ctx.store.users.getUserById(verified.userId) : null;
  if (!verified.ok || !user) {
    ctx.log({ event: 'login_failed', userId: verified.userId, ip, method: 'passkey' });
    return { ok: false, error: refused() };
  }
  await ctx.limits.address.refund(address);
  const signIn = await startSignIn(ctx, caller, user.id);
  ctx.log({
    event: 'login_succeeded',
    userId: user.id,
    sessionId: signIn.session.id,
    ip,
    method: 'passkey',
  });
  return { ok: true, user, signIn };
}

/**
 * A passkey as the proof for `POST /auth/reauth`: an assertion (on a challenge from
 * `POST /auth/passkeys/login/options`) by one of the signed-in user's own passkeys marks the
 * session as recently authenticated. Failures count toward the client address's limit.
 */
export async function reauthWithPasskey(
  ctx: AuthContext,
  settings: PasskeySettings,
  principal: Principal,
  response: AuthenticationResponseJSON,
  caller: Caller,
): Promise<Result<object>> {
  const { ip } = caller.client;
  const address = ip ?? 'unknown';
  const over = await ctx.limits.address.exceeded(address);
  if (over) {
    ctx.log({
      event: 'login_locked',
      scope: 'address',
      userId: principal.userId,
      ip,
      method: 'passkey',
    });
    return { ok: false, error: rateLimited(over) };
  }
  const verified = await verifyAssertion(ctx, settings, response);
  if (!verified.ok || verified.userId !== principal.userId) {
    ctx.log({ event: 'login_failed', userId: principal.userId, ip, method: 'passkey' });
    return { ok: false, error: refused() };
  }
  await ctx.limits.address.refund(address);
  await markRecentlyAuthenticated(ctx, principal);
  return { ok: true };
}
