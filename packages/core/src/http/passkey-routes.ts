import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { z } from 'zod';
import {
  listPasskeys,
  passkeyLogin,
  passkeyLoginOptions,
  passkeyRegistrationOptions,
  passkeySettings,
  registerPasskey,
  removePasskey,
  type PasskeyInfo,
  type PasskeySettings,
} from '../auth/passkeys.js';
import { reply } from './reply.js';
import { unwrap, type Route, type RouteKit } from './routes.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** base64url, as WebAuthn's JSON encodings use it; bounded (a credential id is ≤ 1023 bytes). */
const b64 = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/);
const credentialId = b64(1400);
const extensions = z.record(z.string(), z.unknown()).default({});
const attachment = z.enum(['platform', 'cross-platform']).optional();
const transports = z
  .array(z.enum(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']))
  .max(8)
  .optional();

/** The browser's `PublicKeyCredential.toJSON()` of a `create()`, plus an optional name. */
export const passkeyRegistrationBody = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: attachment,
  clientExtensionResults: extensions,
  response: z.object({
    clientDataJSON: b64(4096),
    attestationObject: b64(8192),
    authenticatorData: b64(8192).optional(),
    transports,
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64(4096).optional(),
  }),
  name: z.string().trim().min(1).max(64).nullish(),
});

/** The browser's `PublicKeyCredential.toJSON()` of a `get()`: an assertion. */
export const passkeyAssertionBody = z.object({
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: attachment,
  clientExtensionResults: extensions,
  response: z.object({
    clientDataJSON: b64(4096),
    authenticatorData: b64(8192),
    signature: b64(2048),
    userHandle: b64(128).optional(),
  }),
});

export type PasskeyAssertionBody = z.infer<typeof passkeyAssertionBody>;

/** The assertion as @simplewebauthn/server takes it. */
export const asAssertion = (body: PasskeyAssertionBody) =>
  body as unknown as AuthenticationResponseJSON;

const publicPasskey = (p: PasskeyInfo) => ({
  id: p.id,
  name: p.name,
  createdAt: iso(p.createdAt),
  lastUsedAt: p.lastUsedAt === null ? null : iso(p.lastUsedAt),
});

/** The settings, once per Latchkey instance (the options limiter lives in them). */
const settingsOf = new WeakMap<RouteKit['ctx'], PasskeySettings>();
export function passkeySettingsFor(kit: Pick<RouteKit, 'ctx' | 'config'>): PasskeySettings {
  let settings = settingsOf.get(kit.ctx);
  if (!settings) {
    settings = passkeySettings(kit.ctx, kit.config);
    settingsOf.set(kit.ctx, settings);
  }
  return settings;
}

/**
 * API.md *Second factor and passkeys*: `/auth/passkeys/*`. Registering and removing need a
 * recent proof of identity; signing in with a passkey is a whole sign-in in either mode.
 */
export function passkeyRoutes(kit: RouteKit): Route[] {
  const { ctx } = kit;
  const settings = passkeySettingsFor(kit);

  return [
    {
      method: 'POST',
      pattern: /^\/passkeys\/register\/options$/,
      handler: async (request, connection) => {
        const auth = await kit.requireAuth(request, connection);
        const { options } = unwrap(await passkeyRegistrationOptions(ctx, settings, auth));
        return reply(200, options, auth.setCookies);
      },
    },
    {
      method: 'POST',
      pattern: /^\/passkeys\/register$/,
      handler: async (request, connection) => {
        const auth = await kit.requireAuth(request, connection);
        const body = await kit.body(request, passkeyRegistrationBody);
        const { name, ...credential } = body;
        const { passkey } = unwrap(
          await registerPasskey(ctx, settings, auth, {
            response: credential as unknown as RegistrationResponseJSON,
            name: name ?? null,
          }),
        );
        const { lastUsedAt: _unused, ...shown } = publicPasskey(passkey);
        return reply(201, { passkey: shown }, auth.setCookies);
      },
    },
    {
      method: 'GET',
      pattern: /^\/passkeys$/,
      handler: async (request, connection) => {
        const auth = await kit.requireAuth(request, connection);
        const passkeys = await listPasskeys(ctx, auth);
        return reply(200, { passkeys: passkeys.map(publicPasskey) }, auth.setCookies);
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/passkeys\/([A-Za-z0-9_-]{1,64})$/,
      handler: async (request, connection, [id]) => {
        const auth = await kit.requireAuth(request, connection);
        unwrap(await removePasskey(ctx, auth, id ?? ''));
        return reply(204, undefined, auth.setCookies);
      },
    },
    {
      method: 'POST',
      pattern: /^\/passkeys\/login\/options$/,
      handler: async (request, connection) => {
        kit.requireSameOrigin(request, connection);
        const { options } = unwrap(
          await passkeyLoginOptions(ctx, settings, kit.caller(request, connection)),
        );
        return reply(200, options);
      },
    },
    {
      method: 'POST',
      pattern: /^\/passkeys\/login$/,
      handler: async (request, connection) => {
        kit.requireSameOrigin(request, connection);
        const body = await kit.body(request, passkeyAssertionBody);
        const { user, signIn } = unwrap(
          await passkeyLogin(ctx, settings, asAssertion(body), kit.caller(request, connection)),
        );
        return kit.signedIn(200, user, signIn);
      },
    },
  ];
}
