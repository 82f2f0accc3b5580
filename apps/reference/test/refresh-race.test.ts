import { setTimeout as sleep } from 'node:timers/promises';
import { REFRESH_COOKIE } from '@latchkey/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, GOOD_PASSWORD, startTestServer, uniqueEmail, type TestServer } from './harness.js';

// "Racing refreshes": concurrent POST /auth/refresh with one cookie, over real HTTP,
// against the reference app on a real SQLite file. A browser keeps whichever
// Set-Cookie arrived last, so every answer must stay usable after the retry window.

// Short, so "after the window" comes quickly, but long enough that a loaded machine
// still answers a whole race inside it (a race that outlasts it is rightly a replay).
const WINDOW_MS = 2_000;
const RACERS = 5;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    LATCHKEY_MODE: 'token',
    LATCHKEY_REFRESH_RETRY_WINDOW: `${WINDOW_MS}ms`,
  });
});
afterAll(() => server.dispose());

interface Answer {
  status: number;
  code: string | null;
  sid: string | null;
  /** The refresh cookie the answer set, if any. */
  cookie: string | null;
}

/** The refresh cookie of a family just signed up. */
async function signedUp(): Promise<string> {
  const agent = new Agent(server.url);
  const reply = await agent.request('POST', '/auth/register', {
    json: { email: uniqueEmail('race'), password: GOOD_PASSWORD },
  });
  expect(reply.status).toBe(201);
  const cookie = agent.cookies.get(REFRESH_COOKIE);
  expect(cookie).toBeTruthy();
  return cookie ?? '';
}

/** POST /auth/refresh from a fresh client holding only the refresh `cookie`. */
async function refreshWith(cookie: string): Promise<Answer> {
  const agent = new Agent(server.url);
  agent.cookies.set(REFRESH_COOKIE, cookie);
  const reply = await agent.request('POST', '/auth/refresh');
  const token: string | undefined = reply.json?.accessToken;
  const claims = token
    ? JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString())
    : null;
  return {
    status: reply.status,
    code: reply.json?.error?.code ?? null,
    sid: claims?.sid ?? null,
    cookie: reply.status === 200 ? (agent.cookies.get(REFRESH_COOKIE) ?? null) : null,
  };
}

/** RACERS concurrent refreshes with one cookie; they must all land inside the window. */
async function race(cookie: string): Promise<Answer[]> {
  const started = performance.now();
  const answers = await Promise.all(Array.from({ length: RACERS }, () => refreshWith(cookie)));
  const elapsed = performance.now() - started;
  expect(elapsed, 'the race outlasted the retry window (machine overloaded?)').toBeLessThan(
    WINDOW_MS,
  );
  return answers;
}

describe('token mode: racing refreshes (real HTTP, SQLite)', () => {
  it(`${RACERS} concurrent refreshes with one cookie: all 200, and whichever answer the browser keeps still refreshes after the window`, async () => {
    // One family per racing position, so each position's answer is tried on its own,
    // as the only cookie a browser kept.
    const families = await Promise.all(Array.from({ length: RACERS }, () => signedUp()));
    const races = await Promise.all(families.map((cookie) => race(cookie)));
    for (const answers of races) {
      expect(answers.map((a) => a.status)).toEqual(Array(RACERS).fill(200));
      expect(new Set(answers.map((a) => a.sid)).size).toBe(1);
      expect(answers.every((a) => a.cookie !== null)).toBe(true);
    }

    await sleep(WINDOW_MS + 300);

    const kept = await Promise.all(
      families.map((_, i) => refreshWith(races[i]?.[i]?.cookie ?? '')),
    );
    expect(kept.map((a) => [a.status, a.code])).toEqual(Array(RACERS).fill([200, null]));
  });

  it('each racing answer, used in turn after the window, is 200; a cookie two generations back is token_reused', async () => {
    const first = await signedUp();
    // Generation 1: a plain refresh. Generation 2: racing refreshes of generation 1.
    const one = await refreshWith(first);
    expect(one.status).toBe(200);
    const answers = await race(one.cookie ?? '');
    expect(answers.map((a) => a.status)).toEqual(Array(RACERS).fill(200));

    await sleep(WINDOW_MS + 300);

    const used: Answer[] = [];
    for (const answer of answers) used.push(await refreshWith(answer.cookie ?? ''));
    expect(used.map((a) => [a.status, a.code])).toEqual(Array(RACERS).fill([200, null]));
    expect(new Set(used.map((a) => a.sid))).toEqual(new Set([one.sid]));

    // Generation 1 is now two rotations back: a replay, and the family is revoked.
    const stale = await refreshWith(one.cookie ?? '');
    expect([stale.status, stale.code]).toEqual([401, 'token_reused']);
    const latest = await refreshWith(used.at(-1)?.cookie ?? '');
    expect(latest.status).toBe(401);
    expect(server.events.some((e) => e.event === 'refresh_reused' && e.sessionId === one.sid)).toBe(
      true,
    );
  });
});
