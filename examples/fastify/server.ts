import { createLatchkey } from '@latchkey/core';
import { createSqliteStore } from '@latchkey/store-sqlite';
import { createApp } from './app.js';

const latchkey = createLatchkey({
  store: createSqliteStore({ filename: process.env.LATCHKEY_DB ?? 'latchkey.sqlite' }),
  secrets: [process.env.LATCHKEY_SECRET ?? ''], // ≥ 32 characters; a list rotates keys
  publicUrl: process.env.PUBLIC_URL ?? 'http://localhost:3000', // unsafe requests come from here
});
const app = await createApp(latchkey);
const address = await app.listen({ port: Number(process.env.PORT ?? 3000) });
console.log(`listening on ${address}`);
