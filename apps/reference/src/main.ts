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

if (server.metricsPort !== null) {
  console.log(`latchkey: metrics on http://127.0.0.1:${server.metricsPort}/metrics`);
}

// Graceful stop (API.md *Operations*): /readyz turns 503, the listener stops accepting,
// what is in flight is answered (up to LATCHKEY_SHUTDOWN_TIMEOUT), the stores close, exit 0.
// A second signal while draining stops at once.
let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) {
    console.log(`latchkey: ${signal} again, stopping now`);
    process.exit(1);
  }
  stopping = true;
  console.log(
    `latchkey: ${signal}, draining ${server.inFlight()} requests in flight (up to ${settings.shutdownTimeoutMs} ms)`,
  );
  server.close().then(
    (report) => {
      console.log(
        `latchkey: drained in ${report.ms} ms: ${report.inFlight} requests in flight and ${report.connections} connections at the signal, ${report.acceptedAfterSignal} connections taken in after it (listen backlog), ${report.answered} answered while draining, ${report.cut} cut at the timeout; stores closed`,
      );
      process.exit(0);
    },
    (error: unknown) => {
      console.error(
        `latchkey: shutdown failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
