/**
 * API.md v2 *Security headers*: on every response, success or error, from the auth
 * routes and from the app's own answers built with latchkey.json / errorResponse /
 * secure; `Cache-Control: no-store` under /auth and on answers to authenticated
 * requests. (The harness checks the same on every reply of the suite; this file
 * sweeps one of each kind explicitly, so a gap is named by its route.)
 */
import { describe, expect, it } from 'vitest';
import {
  Client,
  expectSecurityHeaders,
  harness,
  MODES,
  PASSWORD,
  signedUp,
  uniqueEmail,
  type Reply,
} from './harness.js';

describe.each(MODES)('%s mode: security headers on every answer', (mode) => {
  it('every auth route and status carries them, plus Cache-Control: no-store', async () => {
    const h = await harness(mode);
    const { client, email, reply: registered } = await signedUp(h);
    const anon = new Client(h);
    const json = { 'content-type': 'application/json' };
    const seen: [string, Reply][] = [
      ['201 register', registered],
      ['200 session', await client.send('GET', '/auth/session')],
      ['200 sessions', await client.send('GET', '/auth/sessions')],
      [
        '200 login',
        await new Client(h).send('POST', '/auth/login', { json: { email, password: PASSWORD } }),
      ],
      ['400', await anon.send('POST', '/auth/login', { body: '{', headers: json })],
      ['401', await anon.send('GET', '/auth/session')],
      [
        '401 login',
        await anon.send('POST', '/auth/login', { json: { email, password: 'wrong guess here!' } }),
      ],
      [
        '403',
        await anon.send('POST', '/auth/login', {
          json: {},
          headers: { 'sec-fetch-site': 'cross-site' },
        }),
      ],
      ['404', await anon.send('GET', '/auth/nope')],
      ['409', await anon.send('POST', '/auth/register', { json: { email, password: PASSWORD } })],
      ['413', await anon.send('POST', '/auth/login', { body: 'x'.repeat(17_000), headers: json })],
      [
        '415',
        await anon.send('POST', '/auth/login', {
          body: '{}',
          headers: { 'content-type': 'text/plain' },
        }),
      ],
      [
        '422',
        await anon.send('POST', '/auth/register', {
          json: { email: uniqueEmail(), password: 'aaaaaaaaaaaaaaa' },
        }),
      ],
      ['204 sessions', await client.send('DELETE', '/auth/sessions')],
    ];
    if (mode === 'token') {
      seen.push(['200 refresh', await client.send('POST', '/auth/refresh')]);
      seen.push(['200 jwks', await client.send('GET', '/auth/jwks.json')]);
    }
    seen.push(['204 logout', await client.send('POST', '/auth/logout')]);
    for (const [label, reply] of seen) {
      expect.soft(reply.headers.get('cache-control'), label).toBe('no-store');
      expectSecurityHeaders(reply.headers);
    }
    expect(seen.map(([label, reply]) => `${label}: ${reply.status}`)).toEqual(
      seen.map(([label]) => `${label}: ${/^\d+/.exec(label)?.[0] ?? ''}`),
    );
  });

  it("the app's own answers: json(), errorResponse() and secure() add them; authenticated ones say no-store", async () => {
    const h = await harness(mode);
    const { client } = await signedUp(h);
    const me = await client.send('GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.headers.get('cache-control')).toBe('no-store');
    const denied = await new Client(h).send('GET', '/api/me');
    expect(denied.status).toBe(401);
    expectSecurityHeaders(denied.headers);

    const page = h.latchkey.secure(new Response('<!doctype html>'));
    expectSecurityHeaders(page.headers);
    const own = h.latchkey.secure(new Response('{}'), { private: true });
    expect(own.headers.get('cache-control')).toBe('no-store');
    const cached = h.latchkey.json({}, { cacheControl: 'private, max-age=60' });
    expectSecurityHeaders(cached.headers);
    expect(cached.headers.get('cache-control')).toBe('private, max-age=60');
  });
});
