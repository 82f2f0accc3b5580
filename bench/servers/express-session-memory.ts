// express 5 + express-session with its default MemoryStore, configured as its README does.
import type { Server } from 'node:http';
import { peer } from '../lib/peer.js';
import { BENCH_USER_ID, ready } from '../lib/server.js';

const express = (await peer('express')).default;
const session = (await peer('express-session')).default;

const app = express();
app.use(
  session({
    secret: 'keyboard cat',
    resave: false,
    saveUninitialized: false,
  }),
);
app.post('/login', (req: any, res: any) => {
  req.session.userId = BENCH_USER_ID;
  res.json({ id: BENCH_USER_ID });
});
app.get('/me', (req: any, res: any) => {
  if (!req.session.userId) return res.status(401).json({ error: 'unauthenticated' });
  res.json({ id: req.session.userId });
});

const server: Server = (await import('node:http')).createServer(app);
await ready(server);
