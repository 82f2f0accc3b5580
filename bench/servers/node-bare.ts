// The limit: node:http answering /me with a fixed id, no authentication at all.
import { createServer } from 'node:http';
import { BENCH_USER_ID, ready, sendJson } from '../lib/server.js';

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/me') sendJson(res, 200, { id: BENCH_USER_ID });
  else sendJson(res, 404, { error: 'not_found' });
});
await ready(server);
