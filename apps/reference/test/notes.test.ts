import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, registered, startTestServer, type TestServer } from './harness.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.dispose());

describe('the notes API', () => {
  it("creates, lists (own only, newest first) and deletes the caller's notes", async () => {
    const { agent } = await registered(server.url);
    const other = await registered(server.url);
    await other.agent.unsafe('POST', '/api/notes', { text: 'not yours' });

    const first = await agent.unsafe('POST', '/api/notes', { text: 'first' });
    expect(first.status).toBe(201);
    expect(Object.keys(first.json.note).sort()).toEqual(['createdAt', 'id', 'text']);
    await agent.unsafe('POST', '/api/notes', { text: 'second' });

    const list = await agent.request('GET', '/api/notes');
    expect(list.status).toBe(200);
    expect(list.json.notes.map((n: { text: string }) => n.text).sort()).toEqual([
      'first',
      'second',
    ]);

    expect((await agent.unsafe('DELETE', `/api/notes/${first.json.note.id}`)).status).toBe(204);
    expect(
      (await agent.request('GET', '/api/notes')).json.notes.map((n: { text: string }) => n.text),
    ).toEqual(['second']);
  });

  it("answers 404 for another user's note and keeps it", async () => {
    const alice = await registered(server.url);
    const bob = await registered(server.url);
    const note = (await bob.agent.unsafe('POST', '/api/notes', { text: 'bob only' })).json.note;
    const reply = await alice.agent.unsafe('DELETE', `/api/notes/${note.id}`);
    expect(reply.status).toBe(404);
    expect(reply.json.error.code).toBe('not_found');
    expect((await bob.agent.request('GET', '/api/notes')).json.notes).toHaveLength(1);
  });

  it('validates text: 1..10 000 characters, JSON only', async () => {
    const { agent } = await registered(server.url);
    expect((await agent.unsafe('POST', '/api/notes', { text: '' })).status).toBe(400);
    expect((await agent.unsafe('POST', '/api/notes', { text: 'x'.repeat(10_001) })).status).toBe(
      400,
    );
    expect((await agent.unsafe('POST', '/api/notes', { text: 'x'.repeat(10_000) })).status).toBe(
      201,
    );
    expect((await agent.unsafe('POST', '/api/notes', { nope: 1 })).json.error.code).toBe(
      'invalid_request',
    );
    const token = await agent.refreshCsrf();
    const form = await agent.request('POST', '/api/notes', {
      body: 'text=hi',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': token },
    });
    expect(form.status).toBe(415);
  });

  it('is refused without a session (401) and without the anti-forgery token (403)', async () => {
    const anonymous = new Agent(server.url);
    expect((await anonymous.request('GET', '/api/notes')).json.error.code).toBe('unauthenticated');
    const { agent } = await registered(server.url);
    expect((await agent.request('POST', '/api/notes', { json: { text: 'x' } })).status).toBe(403);
  });
});

describe('GET /healthz', () => {
  it('answers 200 { status: "ok" } while the store is reachable', async () => {
    const reply = await new Agent(server.url).request('GET', '/healthz');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ status: 'ok' });
  });
});

describe('GET /config.json', () => {
  it('tells the SPA the mode, and nothing else', async () => {
    const reply = await new Agent(server.url).request('GET', '/config.json');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ mode: 'session' });
  });
});

describe('when the store cannot be reached', () => {
  it('fails closed: 503 store_unavailable for health, sessions, the API and logins, never a 200', async () => {
    await using broken = await startTestServer();
    const { agent, email } = await registered(broken.url);
    const token = await agent.refreshCsrf();
    await broken.store.close();
    const replies = [
      await new Agent(broken.url).request('GET', '/healthz'),
      await agent.request('GET', '/auth/session'),
      await agent.request('GET', '/api/notes'),
      await agent.request('POST', '/api/notes', {
        json: { text: 'x' },
        headers: { 'x-csrf-token': token },
      }),
      await new Agent(broken.url).request('POST', '/auth/login', {
        json: { email, password: 'correct horse battery staple' },
      }),
    ];
    for (const reply of replies) {
      expect(reply.status).toBe(503);
      expect(reply.json).toEqual({
        error: { code: 'store_unavailable', message: expect.any(String) },
      });
      expect(reply.text).not.toMatch(/sqlite|database|connection|not open/i);
      expect(reply.setCookies).toEqual([]);
    }
  });
});
