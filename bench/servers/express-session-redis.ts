// express 5 + express-session on connect-redis (node-redis client), as connect-redis's README does.
import type { Server } from 'node:http';
import { peer } from '../lib/peer.js';
import { BENCH_USER_ID, onShutdown, ready, redisPrefix, redisUrl } from '../lib/server.js';

const express = (await peer('express')).default;
const session = (await peer('express-session')).default;
const { RedisStore } = await peer('connect-redis');
const { createClient } = await peer('redis');

const client = createClient({ url: redisUrl() });
client.on('error', (error: unknown) => {
  console.error('redis:', error);
});
await client.connect();
const prefix = redisPrefix('express-session');
onShutdown(async () => {
  // Delete every key this process wrote to the shared Redis.
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    const batch: string[] = Array.isArray(keys) ? keys : [keys];
    if (batch.length > 0) await client.del(batch);
  }
  await client.quit();
});

const app = express();
app.use(
  session({
    store: new RedisStore({ client, prefix }),
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
