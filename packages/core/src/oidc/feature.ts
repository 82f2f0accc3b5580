import type { AuthContext } from '../auth/context.js';
import type { OidcConfig } from '../config/oidc.js';
import { createSealer, type Sealer } from '../crypto.js';
import { createBackchannelLogout } from './backchannel.js';
import { createOidcClient, type OidcClient } from './client.js';
import { createTokenVault, type TokenVault } from './vault.js';

/** The backend-for-frontend parts, built once by `createLatchkey` when `oidc` is set. */
export interface OidcFeature {
  readonly config: OidcConfig;
  readonly client: OidcClient;
  readonly vault: TokenVault;
  /** Seals the sign-in transaction cookie (its own HKDF purpose, apart from the tokens'). */
  readonly transactions: Sealer;
  readonly backchannelLogout: ReturnType<typeof createBackchannelLogout>;
}

export function createOidcFeature(
  ctx: AuthContext,
  config: OidcConfig,
  secrets: readonly string[],
): OidcFeature {
  const client = createOidcClient(config, ctx.now);
  const vault = createTokenVault(ctx, createSealer(secrets, 'oidc-tokens'), client);
  return {
    config,
    client,
    vault,
    transactions: createSealer(secrets, 'oidc-transaction'),
    backchannelLogout: createBackchannelLogout(ctx, client, vault),
  };
}
