import { describe, expect, it } from 'vitest';
import { Agent, registered, startTestServer } from './harness.js';

describe('start-up on SQLite', () => {
  it('a second server on the same data dir is refused, naming the file; the first keeps serving', async () => {
    await using first = await startTestServer();
    const { agent } = await registered(first.url);
    await expect(startTestServer({}, { dataDir: first.dataDir })).rejects.toThrow(
      `SQLite file ${first.dataDir}/latchkey.sqlite is in use by another process or connection`,
    );
    expect((await agent.request('GET', '/auth/session')).status).toBe(200);
    expect((await new Agent(first.url).request('GET', '/healthz')).status).toBe(200);
  }, 20_000);
});
