// jose: an EdDSA (Ed25519) JWT verified with jwtVerify on every request, in bare node:http.
import { createServer } from 'node:http';
import { peer } from '../lib/peer.js';
import { BENCH_USER_ID, ready, sendJson } from '../lib/server.js';

const { generateKeyPair, SignJWT, jwtVerify } = await peer('jose');
const { publicKey, privateKey } = await generateKeyPair('EdDSA');
const issuer = 'http://127.0.0.1';

const server = createServer((req, res) => {
  void (async () => {
    if (req.method === 'POST' && req.url === '/login') {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject(BENCH_USER_ID)
        .setIssuer(issuer)
        .setAudience(issuer)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(privateKey);
      sendJson(res, 200, { token });
      return;
    }
    if (req.method !== 'GET' || req.url !== '/me') {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    try {
      if (!match) throw new Error('no token');
      const { payload } = await jwtVerify(match[1], publicKey, {
        issuer,
        audience: issuer,
        algorithms: ['EdDSA'],
      });
      sendJson(res, 200, { id: payload.sub });
    } catch {
      sendJson(res, 401, { error: 'unauthenticated' });
    }
  })();
});
await ready(server);
