// The limit on Hono: the framework Latchkey's adapters mount on, no authentication.
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { BENCH_USER_ID, ready } from '../lib/server.js';

const app = new Hono();
app.get('/me', (c) => c.json({ id: BENCH_USER_ID }));

// The same listener @hono/node-server's serve() installs, on a server we can hand to ready().
const listener = getRequestListener(app.fetch);
const server: Server = createServer((req, res) => {
  void listener(req, res);
});
await ready(server);
