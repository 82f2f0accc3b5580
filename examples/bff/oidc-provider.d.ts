// The small part of oidc-provider 9 (which ships no types) that the local provider uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface ProviderGrant {
    readonly jti: string;
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
    destroy(): Promise<void>;
  }

  export interface ProviderContext {
    readonly oidc: {
      readonly params?: Record<string, unknown>;
      readonly client?: { readonly clientId: string };
      readonly session?: {
        readonly accountId?: string;
        grantIdFor(clientId: string): string | undefined;
      };
      readonly result?: { consent?: { grantId?: string } };
      readonly entities: {
        readonly AuthorizationCode?: {
          readonly accountId: string;
          readonly sid?: string;
          readonly grantId: string;
        };
        readonly RefreshToken?: { readonly accountId: string; readonly grantId: string };
      };
      readonly provider: Provider;
    };
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (ctx: ProviderContext, ...rest: unknown[]) => void): this;
    readonly Grant: {
      new (init: { clientId: string; accountId: string }): ProviderGrant;
      find(id: string): Promise<ProviderGrant | undefined>;
    };
    readonly Client: {
      find(
        id: string,
      ): Promise<{ backchannelLogout(sub: string, sid: string): Promise<void> } | undefined>;
    };
  }
  export default Provider;
}
