// Calibration: bare node:http answering /me with a fixed id and no authentication, but
// with every header API.md requires on every response (and no-store), as Latchkey's
// answers carry. The gap between this row and bare node:http is what the headers cost
// (Node validating and writing ~600 more bytes, the client parsing them); the gap
// between this row and a Latchkey row is what Latchkey's own code costs.
import { createServer } from 'node:http';
import { createLatchkey, securityHeaders } from '../../packages/core/src/index.js';
import { createMemoryStore } from '../../packages/core/src/testing.js';
import { BENCH_USER_ID, ready, sendJson } from '../lib/server.js';

// Only for the header values the default options produce; no request reaches it.
const { config } = createLatchkey({
  store: createMemoryStore(),
  secrets: ['bench-secret-0123456789abcdef0123456789abcdef'],
  publicUrl: 'http://127.0.0.1',
  logger: () => undefined,
});
const headers = { ...securityHeaders(config), 'Cache-Control': 'no-store' };

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/me') sendJson(res, 200, { id: BENCH_USER_ID }, headers);
  else sendJson(res, 404, { error: 'not_found' }, headers);
});
await ready(server);
