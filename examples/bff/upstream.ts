import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';

/**
 * A small API behind the relay, as a resource server would be: it trusts nothing but
 * a JWT access token from the provider, verified against the provider's JWKS (`iss`,
 * `aud` = this API, `exp`, `typ: at+jwt`). It answers what it saw, so a person (and a
 * test) can check that the relay sent the provider's token and nothing of the browser's.
 */
export interface DemoUpstream {
  url: string;
  /** The provider whose access tokens to accept (the upstream starts first: it is their audience). */
  trust(issuer: string): void;
  /** Every request it answered, newest last: what the relay sent. */
  seen: {
    method: string;
    path: string;
    sub: string | null;
    /** The bearer token it was sent (a demo keeps it to show; a real API would not). */
    token: string | null;
    status: number;
    cookie: boolean;
    csrf: boolean;
    bodyBytes: number;
  }[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Starts the upstream on 127.0.0.1. The access tokens' audience is its own URL (the
 * provider's resource indicator for it); until `trust(issuer)` every request is `401`.
 */
export async function startDemoUpstream(options: { port?: number } = {}): Promise<DemoUpstream> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let trusted: { issuer: string; jwks: ReturnType<typeof createRemoteJWKSet> } | null = null;
  const seen: DemoUpstream['seen'] = [];

  server.on('request', (request, response) => {
    void (async () => {
      const body = await readBody(request);
      const path = request.url ?? '/';
      const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      let sub: string | null = null;
      let status = 200;
      let answer: unknown;
      try {
        if (!bearer || !trusted) throw new Error('no bearer token');
        const { payload } = await jwtVerify(bearer, trusted.jwks, {
          issuer: trusted.issuer,
          audience: url,
          typ: 'at+jwt',
        });
        sub = payload.sub ?? null;
        answer = {
          hello: sub,
          scope: payload.scope ?? null,
          method: request.method,
          path,
          tokenExpiresAt: payload.exp ? new Date(payload.exp * 1000).toISOString() : null,
          bodyBytes: body.length,
        };
      } catch {
        status = 401;
        answer = { error: 'invalid_token' };
      }
      seen.push({
        method: request.method ?? 'GET',
        path,
        sub,
        token: bearer ?? null,
        status,
        cookie: request.headers.cookie !== undefined,
        csrf: request.headers['x-csrf-token'] !== undefined,
        bodyBytes: body.length,
      });
      response
        .writeHead(status, {
          'content-type': 'application/json',
          ...(status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {}),
          // Must not reach the browser through the relay.
          'set-cookie': 'upstream=1; Path=/',
        })
        .end(JSON.stringify(answer));
    })();
  });

  return {
    url,
    trust(issuer) {
      trusted = { issuer, jwks: createRemoteJWKSet(new URL(`${issuer}/jwks`)) };
    },
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
