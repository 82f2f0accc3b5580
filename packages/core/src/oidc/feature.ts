import type { AuthContext } from '../auth/context.js';
import { rememberProviderSession } from '../auth/oidc-sign-in.js';
import type { SignIn } from '../auth/sign-in.js';
import type { OidcConfig } from '../config/oidc.js';
import { createSealer, type Sealer } from '../crypto.js';
import { createBackchannelLogout } from './backchannel.js';
import { createOidcClient, type OidcClient, type ProviderTokens } from './client.js';
import { createTokenVault, type TokenVault } from './vault.js';

/** The backend-for-frontend parts, built once by `createLatchkey` when `oidc` is set. */
export interface OidcFeature {
  readonly config: OidcConfig;
  readonly client: OidcClient;
  readonly vault: TokenVault;
  /** Seals the sign-in transaction cookie (its own HKDF purpose, apart from the tokens'). */
  readonly transactions: Sealer;
  readonly backchannelLogout: ReturnType<typeof createBackchannelLogout>;
  /** Seals what a provider sign-in leaves in a pending two-step sign-in (see `carry`). */
  carry(pending: CarriedSignIn): string;
  /**
   * After the second factor of a provider sign-in: keeps the provider's tokens for the
   * new session and its `sid` for back-channel logout, as a one-step sign-in does.
   */
  completePendingSignIn(carried: string, userId: string, signIn: SignIn): Promise<void>;
}

/** The provider's side of a sign-in that waits for the account's second factor. */
export interface CarriedSignIn {
  issuer: string;
  sub: string;
  sid: string | null;
  tokens: ProviderTokens;
}

export function createOidcFeature(
  ctx: AuthContext,
  config: OidcConfig,
  secrets: readonly string[],
): OidcFeature {
  const client = createOidcClient(config, ctx.now);
  const vault = createTokenVault(ctx, createSealer(secrets, 'oidc-tokens'), client);
  const pending = createSealer(secrets, 'oidc-pending');
  return {
    config,
    client,
    vault,
    transactions: createSealer(secrets, 'oidc-transaction'),
    backchannelLogout: createBackchannelLogout(ctx, client, vault),
    carry: (signIn) => pending.seal(JSON.stringify(signIn)),
    async completePendingSignIn(carried, userId, signIn) {
      const opened = pending.open(carried);
      // Sealed under a secret since retired: signed in, but the relay will ask for a
      // new provider sign-in (it finds no tokens for this session).
      if (!opened) return;
      const { issuer, sub, sid, tokens } = JSON.parse(opened) as CarriedSignIn;
      await vault.save(signIn.session, { sub, sid }, tokens);
      await rememberProviderSession(ctx, { issuer, sid }, userId, signIn.session.expiresAt);
    },
  };
}
