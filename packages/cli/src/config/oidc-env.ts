import { ConfigError, type OidcOptions } from '@latchkey/core';

type Env = Record<string, string | undefined>;

/** The environment keys of the backend for frontend (API.md, *Running it*). */
export const OIDC_KEYS = [
  'LATCHKEY_OIDC_ISSUER',
  'LATCHKEY_OIDC_CLIENT_ID',
  'LATCHKEY_OIDC_CLIENT_SECRET',
  'LATCHKEY_OIDC_NAME',
  'LATCHKEY_UPSTREAM_URL',
] as const;

/** How the core's `oidc.*` option names read as environment keys, for error messages. */
export const OIDC_ENV_KEY_OF_OPTION: [RegExp, string][] = [
  [/\boidc\.issuer\b/g, 'LATCHKEY_OIDC_ISSUER'],
  [/\boidc\.clientId\b/g, 'LATCHKEY_OIDC_CLIENT_ID'],
  [/\boidc\.clientSecret\b/g, 'LATCHKEY_OIDC_CLIENT_SECRET'],
  [/\boidc\.name\b/g, 'LATCHKEY_OIDC_NAME'],
  [/\boidc\.upstream\.url\b/g, 'LATCHKEY_UPSTREAM_URL'],
];

/**
 * The `oidc` option from LATCHKEY_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET (all three or
 * none), LATCHKEY_OIDC_NAME and LATCHKEY_UPSTREAM_URL; undefined when none is set. The
 * values themselves are checked by the core (`checkOptions`).
 */
export function oidcFromEnv(env: Env): OidcOptions | undefined {
  const value = (key: (typeof OIDC_KEYS)[number]) => env[key]?.trim() || undefined;
  const issuer = value('LATCHKEY_OIDC_ISSUER');
  const clientId = value('LATCHKEY_OIDC_CLIENT_ID');
  const clientSecret = value('LATCHKEY_OIDC_CLIENT_SECRET');
  const name = value('LATCHKEY_OIDC_NAME');
  const upstream = value('LATCHKEY_UPSTREAM_URL');
  if (!issuer && !clientId && !clientSecret) {
    const stray = name ? 'LATCHKEY_OIDC_NAME' : upstream ? 'LATCHKEY_UPSTREAM_URL' : null;
    if (stray)
      throw new ConfigError(`${stray}: needs LATCHKEY_OIDC_ISSUER, _CLIENT_ID and _CLIENT_SECRET`);
    return undefined;
  }
  for (const [key, given] of [
    ['LATCHKEY_OIDC_ISSUER', issuer],
    ['LATCHKEY_OIDC_CLIENT_ID', clientId],
    ['LATCHKEY_OIDC_CLIENT_SECRET', clientSecret],
  ] as const) {
    if (!given) {
      throw new ConfigError(
        `${key}: required with the other LATCHKEY_OIDC_* keys (issuer, client id and secret)`,
      );
    }
  }
  return {
    issuer: issuer as string,
    clientId: clientId as string,
    clientSecret: clientSecret as string,
    ...(name ? { name } : {}),
    ...(upstream ? { upstream: { url: upstream } } : {}),
  };
}
