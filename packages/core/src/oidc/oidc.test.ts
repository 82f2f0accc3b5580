import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/checks.js';
import { resolveOidc } from '../config/oidc.js';
import { createSealer } from '../crypto.js';
import { errorBody, type LatchkeyError } from '../errors.js';
import { safeReturnTo } from '../http/oidc-routes.js';
import { createRelay } from './relay.js';
import type { TokenVault } from './vault.js';

const SECRET = 'a'.repeat(40);
const OLD_SECRET = 'b'.repeat(40);

describe('sealer (AES-256-GCM, key by HKDF from the server secret)', () => {
  it('opens what it sealed, under the current or an older secret', () => {
    const old = createSealer([OLD_SECRET], 'oidc-tokens');
    const sealer = createSealer([SECRET, OLD_SECRET], 'oidc-tokens');
    const sealed = sealer.seal('provider tokens');
    expect(sealed).not.toContain('provider');
    expect(sealer.seal('provider tokens')).not.toBe(sealed);
    expect(sealer.open(sealed)).toBe('provider tokens');
    expect(sealer.open(old.seal('from before'))).toBe('from before');
  });

  it('refuses a changed byte, another purpose and another secret', () => {
    const sealer = createSealer([SECRET], 'oidc-tokens');
    const sealed = sealer.seal('provider tokens');
    const bytes = Buffer.from(sealed, 'base64url');
    bytes[14] = (bytes[14] ?? 0) ^ 1;
    expect(sealer.open(bytes.toString('base64url'))).toBeNull();
    expect(sealer.open(sealed.slice(0, -2))).toBeNull();
    expect(createSealer([SECRET], 'oidc-transaction').open(sealed)).toBeNull();
    expect(createSealer([OLD_SECRET], 'oidc-tokens').open(sealed)).toBeNull();
    expect(sealer.open('not base64!')).toBeNull();
  });
});

describe('returnTo', () => {
  const origin = 'https://app.example';
  it.each([
    ['/notes?x=1#top', '/notes?x=1#top'],
    ['/', '/'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['/a\nb', '/'],
    [null, '/'],
  ])('%j goes to %j', (given, expected) => {
    expect(safeReturnTo(given, origin)).toBe(expected);
  });
});

describe('oidc options', () => {
  const base = { issuer: 'https://id.example', clientId: 'app', clientSecret: 's'.repeat(32) };
  const resolve = (options: object) =>
    resolveOidc(options as never, 'https://app.example', '/auth');

  it('derives the redirect URI and defaults', () => {
    const config = resolve({ ...base, upstream: { url: 'https://api.example/v1' } });
    expect(config).toMatchObject({
      redirectUri: 'https://app.example/auth/oidc/callback',
      postLogoutRedirectUri: 'https://app.example/',
      name: 'SSO',
      scope: 'openid email profile offline_access',
      insecureLoopback: false,
      upstream: { path: '/bff', bodyLimit: 1_048_576, timeoutMs: 30_000 },
    });
  });

  it.each([
    [{ issuer: 'http://id.example' }, 'oidc.issuer'],
    [{ clientId: '' }, 'oidc.clientId'],
    [{ clientSecret: undefined }, 'oidc.clientSecret'],
    [{ privateKey: { kty: 'EC', d: 'x' } }, 'oidc.clientSecret'],
    [{ scopes: ['email'] }, 'oidc.scopes'],
    [{ upstream: { url: 'ftp://api.example' } }, 'oidc.upstream.url'],
    [{ upstream: { url: 'https://api.example', path: '/auth' } }, 'oidc.upstream.path'],
  ])('refuses %j (%s)', (change, key) => {
    expect(() => resolve({ ...base, ...change })).toThrow(ConfigError);
    expect(() => resolve({ ...base, ...change })).toThrow(key);
  });

  it('allows http only for a loopback issuer (development)', () => {
    expect(resolve({ ...base, issuer: 'http://127.0.0.1:4000' })?.insecureLoopback).toBe(true);
  });
});

describe('relay', () => {
  let server: Server;
  let url: string;
  const seen: { url: string; headers: IncomingHttpHeaders; body: number }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = 0;
      req.on('data', (chunk: Buffer) => (body += chunk.length));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body });
        if (req.url?.startsWith('/api/slow')) return; // never answers
        res
          .writeHead(200, {
            'content-type': 'text/plain',
            'set-cookie': 'upstream=1',
            connection: 'keep-alive',
          })
          .end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const relayTo = (upstreamUrl: string, options: { timeoutMs?: number; bodyLimit?: number } = {}) =>
    createRelay({
      upstream: {
        url: new URL(upstreamUrl),
        path: '/bff',
        bodyLimit: options.bodyLimit ?? 1000,
        timeoutMs: options.timeoutMs ?? 5000,
      },
      vault: {
        access: () => Promise.resolve({ ok: true, accessToken: 'provider-token' }),
      } as unknown as TokenVault,
      authenticate: () =>
        Promise.resolve({
          ok: true,
          userId: 'u',
          sessionId: 's',
          user: null,
          session: null,
          setCookies: [],
          record: null,
        }),
      errorResponse: (error: LatchkeyError) =>
        Response.json(errorBody(error), { status: error.status }),
      secure: (response) => response,
      clearedCredential: 'cleared',
    });

  it('sends the provider token and none of the browser credentials, under the base path', async () => {
    const relay = relayTo(`${url}/api`);
    const answer = await relay(
      new Request('http://app.example/bff/items?q=1', {
        headers: {
          cookie: '__Host-Http-session=secret',
          authorization: 'Bearer browser',
          'x-csrf-token': 'csrf',
          connection: 'x-private',
          'x-private': 'hop',
          'x-app': 'kept',
        },
      }),
    );
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('ok');
    expect(answer.headers.get('set-cookie')).toBeNull();
    const request = seen.at(-1);
    expect(request?.url).toBe('/api/items?q=1');
    expect(request?.headers).toMatchObject({
      authorization: 'Bearer provider-token',
      'x-app': 'kept',
    });
    expect(request?.headers.cookie).toBeUndefined();
    expect(request?.headers['x-csrf-token']).toBeUndefined();
    expect(request?.headers['x-private']).toBeUndefined();
  });

  it('never leaves the base path, nor its own mount path', async () => {
    const relay = relayTo(`${url}/api`);
    const count = seen.length;
    for (const path of ['/bff/..%2Fadmin', '/bff/%5C..%5Cadmin', '/other/x', '/bffx']) {
      expect((await relay(new Request(`http://app.example${path}`))).status).toBe(404);
    }
    expect(seen.length).toBe(count);
  });

  it('refuses a body over the limit, declared or streamed', async () => {
    const relay = relayTo(`${url}/api`, { bodyLimit: 10 });
    const declared = await relay(
      new Request('http://app.example/bff/x', { method: 'POST', body: 'x'.repeat(11) }),
    );
    expect(declared.status).toBe(413);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(4));
        controller.close();
      },
    });
    const streamed = await relay(
      new Request('http://app.example/bff/x', {
        method: 'POST',
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
  });

  it('answers 502 when the upstream is down or too slow', async () => {
    const down = await relayTo('http://127.0.0.1:1/api')(new Request('http://app.example/bff/x'));
    expect(down.status).toBe(502);
    expect(((await down.json()) as { error: { code: string } }).error.code).toBe(
      'upstream_unavailable',
    );
    const slow = await relayTo(`${url}/api`, { timeoutMs: 200 })(
      new Request('http://app.example/bff/slow'),
    );
    expect(slow.status).toBe(502);
  });
});
