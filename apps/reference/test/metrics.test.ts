import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { parseExposition, sampleValue } from '@latchkey/cli/metrics';
import { describe, expect, it } from 'vitest';
import { Agent, freePort, registered, startTestServer } from './harness.js';

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('Prometheus metrics on LATCHKEY_METRICS_PORT (API.md Operations)', () => {
  it('a real scrape: requests by route template and status, security events, store calls, hashing; bounded labels', async () => {
    const metricsPort = await freePort();
    await using server = await startTestServer({ LATCHKEY_METRICS_PORT: String(metricsPort) });
    expect(server.metricsPort).toBe(metricsPort);

    const { agent, email, user } = await registered(server.url);
    const failed = await new Agent(server.url).request('POST', '/auth/login', {
      json: { email, password: 'not the password at all, no' },
    });
    expect(failed.status).toBe(401);
    expect((await agent.unsafe('POST', '/api/notes', { text: 'hello' })).status).toBe(201);
    const noteId = crypto.randomUUID();
    expect((await agent.unsafe('DELETE', `/api/notes/${noteId}`)).status).toBe(404);
    expect((await agent.request('GET', '/api/notes')).status).toBe(200);
    expect((await agent.request('GET', '/wp-admin/setup-config.php')).status).toBe(404);
    const sessionId = (await agent.request('GET', '/auth/session')).json.session.id as string;

    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const samples = parseExposition(text);

    const requests = (method: string, route: string, status: string) =>
      sampleValue(samples, 'latchkey_http_requests_total', { method, route, status });
    expect(requests('POST', '/auth/register', '201')).toBe(1);
    expect(requests('POST', '/auth/login', '401')).toBe(1);
    expect(requests('POST', '/api/notes', '201')).toBe(1);
    expect(requests('DELETE', '/api/notes/:id', '404')).toBe(1);
    expect(requests('GET', 'other', '404')).toBe(1);
    expect(
      sampleValue(samples, 'latchkey_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/notes',
        status: '201',
      }),
    ).toBe(1);
    const events = (event: string, outcome: string) =>
      sampleValue(samples, 'latchkey_security_events_total', { event, outcome });
    expect(events('register', 'success')).toBe(1);
    expect(events('login', 'failure')).toBe(1);
    expect(sampleValue(samples, 'latchkey_sessions_created_total')).toBe(1);

    // Store calls, by operation: the sign-up wrote a user and a session.
    const storeCalls = samples.filter(
      (s) => s.name === 'latchkey_store_operation_duration_seconds_count',
    );
    expect(storeCalls.map((s) => s.labels.operation)).toEqual(
      expect.arrayContaining(['users.createUser', 'sessions.createSession']),
    );
    expect(new Set(storeCalls.map((s) => s.labels.store))).toEqual(new Set(['sqlite']));
    expect(sampleValue(samples, 'latchkey_hashing_queue_depth')).toBe(0);
    expect(sampleValue(samples, 'latchkey_hashing_refused_total')).toBe(0);
    expect(sampleValue(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);

    // Bounded labels: no raw path, user, email or session in the exposition.
    for (const secret of [noteId, user.id, email, sessionId, 'wp-admin']) {
      expect(text).not.toContain(secret);
    }

    // A store fault shows as an error of that operation.
    await server.store.close();
    expect((await agent.request('GET', '/api/notes')).status).toBe(503);
    const after = parseExposition(
      await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    );
    const errors = after.filter((s) => s.name === 'latchkey_store_errors_total');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((s) => s.labels.store === 'sqlite' && s.value > 0)).toBe(true);
    expect(
      sampleValue(after, 'latchkey_http_requests_total', {
        method: 'GET',
        route: '/api/notes',
        status: '503',
      }),
    ).toBe(1);
  });

  it('listens on 127.0.0.1 only; the public port has no /metrics', async () => {
    const metricsPort = await freePort();
    // The public side on every address, as in production behind a load balancer.
    await using server = await startTestServer(
      { LATCHKEY_METRICS_PORT: String(metricsPort) },
      { host: '0.0.0.0' },
    );
    expect(await accepts('127.0.0.1', metricsPort)).toBe(true);
    expect(await accepts('127.0.0.2', metricsPort)).toBe(false);
    expect(await accepts('::1', metricsPort)).toBe(false);
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a?.address as string);
    for (const address of external) {
      expect(await accepts(address, server.port), address).toBe(true); // the public port is there
      expect(await accepts(address, metricsPort), address).toBe(false);
    }
    const onPublic = await new Agent(`http://127.0.0.1:${server.port}`).request('GET', '/metrics');
    expect(onPublic.status).toBe(404);
    expect(onPublic.text).not.toContain('latchkey_');
    const other = await fetch(`http://127.0.0.1:${metricsPort}/`);
    expect(other.status).toBe(404);
  });
});
