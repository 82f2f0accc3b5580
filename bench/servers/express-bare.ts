// The limit on Express 5: the framework Latchkey's Express adapter mounts on, no authentication.
import { createServer, type Server } from 'node:http';
import { peer } from '../lib/peer.js';
import { BENCH_USER_ID, ready } from '../lib/server.js';

const express = (await peer('express')).default;
const app = express();
app.get('/me', (_req: any, res: any) => {
  res.json({ id: BENCH_USER_ID });
});

const server: Server = createServer(app);
await ready(server);
