import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createLatchkey, type LatchkeyStore } from '@latchkey/core';
import { createMemoryStore } from '@latchkey/core/testing';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { latchkeyHono, type LatchkeyVariables } from './hono.js';

const OLD_KEY = 'o'.repeat(32);
const NEW_KEY = 'n'.repeat(32);
const PASSWORD = 'correct horse battery staple';

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** The README's Hono mount, plus routes that set their own headers. */
async function start(store: LatchkeyStore, secrets: string[]) {
  const latchkey = createLatchkey({
    store,
    secrets,
    publicUrl: 'http://localhost',
    logger: () => undefined,
  });
  const { securityHeaders, routes, requireAuth } = latchkeyHono(latchkey);
  const app = new Hono<{ Variables: LatchkeyVariables }>();
  app.use('*', securityHeaders);
  app.all('/auth/*', routes);
  app.get('/public', (c) => c.text('hello'));
  app.get('/framed', (c) => c.text('mine', 200, { 'X-Frame-Options': 'SAMEORIGIN' }));
  app.use('/api/*', requireAuth);
  app.get('/api/me', (c) => c.json({ id: c.get('auth').userId }));
  // Built by Latchkey: the headers and no-store are in it, none are added.
  app.get('/api/built', () => latchkey.json({ ok: true }));
  app.get('/api/built-cached', () =>
    latchkey.json({ ok: true }, { cacheControl: 'private, max-age=60' }),
  );
  app.get('/api/cached', (c) =>
    c.json({ ok: true }, 200, { 'Cache-Control': 'private, max-age=60' }),
  );
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function register(base: string): Promise<string> {
  const response = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'hono@example.com', password: PASSWORD }),
  });
  expect(response.status).toBe(201);
  return response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

// Registering hashes a password (argon2id) and loads the strength dictionaries once.
describe('latchkeyHono on @hono/node-server', { timeout: 30_000 }, () => {
  it('answers the auth routes with the security headers, once each, and no-store', async () => {
    const base = await start(createMemoryStore(), [OLD_KEY]);
    const cookie = await register(base);
    const session = await fetch(`${base}/auth/session`, { headers: { cookie } });
    expect(session.status).toBe(200);
    expect(session.headers.get('cache-control')).toBe('no-store');
    // A header sent twice would read back joined with ", ".
    expect(session.headers.get('x-frame-options')).toBe('DENY');
    expect(session.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const missing = await fetch(`${base}/auth/nothing-here`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('puts the headers on the app’s own answers, and a header the app sets wins', async () => {
    const base = await start(createMemoryStore(), [OLD_KEY]);
    const plain = await fetch(`${base}/public`);
    expect(plain.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
    expect(plain.headers.get('x-frame-options')).toBe('DENY');
    const framed = await fetch(`${base}/framed`);
    expect(framed.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(framed.headers.get('referrer-policy')).toBe('same-origin');
  });

  it('requireAuth: 401 without a session, the user and no-store with one', async () => {
    const base = await start(createMemoryStore(), [OLD_KEY]);
    const anonymous = await fetch(`${base}/api/me`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe(
      'unauthenticated',
    );
    expect(anonymous.headers.get('content-security-policy')).not.toBeNull();
    const cookie = await register(base);
    const me = await fetch(`${base}/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { id: string }).id).toMatch(/^[0-9a-f-]{36}$/);
    expect(me.headers.get('cache-control')).toBe('no-store');
    const cached = await fetch(`${base}/api/cached`, { headers: { cookie } });
    expect(cached.headers.get('cache-control')).toBe('private, max-age=60');
    // A header sent twice would read back joined with ", ".
    const built = await fetch(`${base}/api/built`, { headers: { cookie } });
    expect(built.headers.get('cache-control')).toBe('no-store');
    expect(built.headers.get('x-frame-options')).toBe('DENY');
    expect(built.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const builtCached = await fetch(`${base}/api/built-cached`, { headers: { cookie } });
    expect(builtCached.headers.get('cache-control')).toBe('private, max-age=60');
    expect(builtCached.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('requireAuth sends the cookie re-signed under the newest key', async () => {
    const store = createMemoryStore();
    const cookie = await register(await start(store, [OLD_KEY]));
    const rotated = await start(store, [NEW_KEY, OLD_KEY]);
    const me = await fetch(`${rotated}/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    const resigned = me.headers.getSetCookie().find((c) => c.startsWith('__Host-Http-session='));
    expect(resigned).toBeDefined();
    expect(resigned?.split(';')[0]).not.toBe(cookie.split('; ')[0]);
    expect(me.headers.get('cache-control')).toBe('no-store');
  });
});
