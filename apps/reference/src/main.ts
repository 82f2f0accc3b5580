import { ConfigError, readEnv } from '@latchkey/core';
import { startReferenceServer } from './server.js';

// Entry point of `npm start`: validate the environment once, fail fast with one line.
let settings;
try {
  settings = readEnv(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`latchkey: invalid configuration: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
// Until the Redis and PostgreSQL stores land, refuse rather than silently keep
// sessions somewhere the operator did not ask for.
if (settings.redisUrl) {
  console.error(
    'latchkey: invalid configuration: LATCHKEY_REDIS_URL: the Redis store is not available in this version; unset it to use SQLite',
  );
  process.exit(1);
}
if (settings.databaseUrl) {
  console.warn(
    'latchkey: DATABASE_URL is set but this version keeps users and sessions in SQLite only; ignoring it',
  );
}
if (!settings.secrets) {
  console.warn(
    `latchkey: no LATCHKEY_SECRET set; using a development secret kept in ${settings.dataDir}/dev-secret (never do this in production)`,
  );
}

const server = await startReferenceServer(settings);
console.log(
  `latchkey: reference app (${settings.mode} mode, SQLite in ${settings.dataDir}) on ${server.url}`,
);

const shutdown = (signal: string) => {
  console.log(`latchkey: ${signal}, shutting down`);
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', () => shutdown('SIGINT'));
process.once('SIGTERM', () => shutdown('SIGTERM'));
