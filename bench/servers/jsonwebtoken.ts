// jsonwebtoken HS256 with a string secret, the way the typical tutorial writes it
// (`jwt.sign(payload, process.env.JWT_SECRET)` / `jwt.verify(token, process.env.JWT_SECRET)`),
// in bare node:http so the number is the verify, not a framework.
import { createServer } from 'node:http';
import { peer } from '../lib/peer.js';
import { BENCH_USER_ID, ready, sendJson } from '../lib/server.js';

const jwt = (await peer('jsonwebtoken')).default;
process.env.JWT_SECRET ??= 'a-string-secret-at-least-256-bits-long-for-hs256';
const JWT_SECRET = process.env.JWT_SECRET;

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/login') {
    const token = jwt.sign({ userId: BENCH_USER_ID }, JWT_SECRET, { expiresIn: '1h' });
    sendJson(res, 200, { token });
    return;
  }
  if (req.method !== 'GET' || req.url !== '/me') {
    sendJson(res, 404, { error: 'not_found' });
    return;
  }
  const authHeader = req.headers.authorization;
  const token = authHeader && authHeader.split(' ')[1];
  if (!token) {
    sendJson(res, 401, { error: 'unauthenticated' });
    return;
  }
  jwt.verify(token, JWT_SECRET, (err: unknown, payload: any) => {
    if (err) sendJson(res, 401, { error: 'unauthenticated' });
    else sendJson(res, 200, { id: payload.userId });
  });
});
await ready(server);
