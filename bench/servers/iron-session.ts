// iron-session: the session sealed (encrypted + signed) into the cookie itself, on node:http.
import { createServer } from 'node:http';
import { peer } from '../lib/peer.js';
import { BENCH_USER_ID, ready, sendJson } from '../lib/server.js';

const { getIronSession } = await peer('iron-session');
const options = {
  password: 'complex_password_at_least_32_characters_long',
  cookieName: 'bench_session',
  // Plain http on 127.0.0.1: the harness forwards the cookie by hand anyway.
  cookieOptions: { secure: false },
};

const server = createServer((req, res) => {
  void (async () => {
    const session = await getIronSession(req, res, options);
    if (req.method === 'POST' && req.url === '/login') {
      session.userId = BENCH_USER_ID;
      await session.save();
      sendJson(res, 200, { id: BENCH_USER_ID });
    } else if (req.method === 'GET' && req.url === '/me') {
      if (!session.userId) sendJson(res, 401, { error: 'unauthenticated' });
      else sendJson(res, 200, { id: session.userId });
    } else sendJson(res, 404, { error: 'not_found' });
  })().catch((error: unknown) => {
    console.error(error);
    sendJson(res, 500, { error: 'internal_error' });
  });
});
await ready(server);
