import { readEnv } from '@latchkey/cli/config';
import { startReferenceServer } from '../../apps/reference/src/server.js';
import { startLocalProvider } from './provider.js';
import { startDemoUpstream } from './upstream.js';

/*
 * `npm run demo:bff`: the backend for frontend on one machine, nothing to install.
 *
 *   the reference app   http://localhost:3000       (PORT to change)
 *   an OpenID provider  http://127.0.0.1:4000       (oidc-provider, any login/password)
 *   the upstream API    http://127.0.0.1:4001       (verifies the provider's JWTs)
 *
 * localhost and 127.0.0.1 are different sites, as an app and its identity provider on
 * their own domains are. Sign in with `Sign in with Local ID`, then open
 * http://localhost:3000/bff/hello: the app relays it to the upstream with the provider's
 * access token (refreshed every minute or so), which the browser never sees.
 */

const port = Number(process.env.PORT ?? 3000);
const appUrl = `http://localhost:${port}`;
const upstream = await startDemoUpstream({ port: 4001 });
const provider = await startLocalProvider({
  appUrls: [appUrl],
  upstreamUrl: upstream.url,
  port: 4000,
  accessTokenTtl: 60,
});
upstream.trust(provider.issuer);

const settings = readEnv({
  ...process.env,
  HOST: 'localhost',
  PORT: String(port),
  LATCHKEY_DATA_DIR: process.env.LATCHKEY_DATA_DIR ?? './data/bff-demo',
  LATCHKEY_OIDC_ISSUER: provider.issuer,
  LATCHKEY_OIDC_CLIENT_ID: provider.clientId,
  LATCHKEY_OIDC_CLIENT_SECRET: provider.clientSecret,
  LATCHKEY_OIDC_NAME: 'Local ID',
  LATCHKEY_UPSTREAM_URL: upstream.url,
});
const server = await startReferenceServer(settings);

console.log(`
latchkey bff demo
  app        ${server.url}   (sign in with "Sign in with Local ID"; any login and password)
  relay      ${server.url}/bff/hello   (open it once signed in)
  provider   ${provider.issuer}
  upstream   ${upstream.url}
Ctrl-C to stop.`);

const stop = () => {
  void Promise.all([server.close(), provider.close(), upstream.close()]).finally(() =>
    process.exit(0),
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
