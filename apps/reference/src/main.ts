import { readEnv } from '@latchkey/cli/config';
import { ConfigError } from '@latchkey/core';
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
if (!settings.secrets) {
  console.warn(
    `latchkey: no LATCHKEY_SECRET set; using a development secret kept in ${settings.dataDir}/dev-secret (never do this in production)`,
  );
}

// A store that cannot be opened, a port in use: one line for the operator, no stack.
const server = await startReferenceServer(settings).catch((error: unknown) => {
  console.error(
    `latchkey: cannot start: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
console.log(
  `latchkey: reference app (${settings.mode} mode; ${server.description}) on ${server.url}`,
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
