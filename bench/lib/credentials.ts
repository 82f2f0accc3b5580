import type { CredentialKind } from '../contenders.js';
import { BENCH_USER_ID } from './server.js';

/** The account the harness registers wherever a contender has accounts. */
export const ACCOUNT = {
  email: 'bench@example.com',
  password: 'correct horse battery staple 42',
  name: 'Bench',
};

export interface Credential {
  /** Headers that authenticate `GET /me`. */
  headers: Record<string, string>;
  /** The id `/me` must answer with. */
  userId: string;
}

const cookieHeader = (response: Response) =>
  response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');

async function post(
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  const response = await fetch(url, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) {
    throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
  }
  return response;
}

/** Gets a credential through the contender's own API (a real sign-up or login). */
export async function obtainCredential(kind: CredentialKind, base: string): Promise<Credential> {
  switch (kind) {
    case 'none':
      return { headers: {}, userId: BENCH_USER_ID };
    case 'latchkey-session': {
      const response = await post(`${base}/auth/register`, ACCOUNT);
      const body = (await response.json()) as { user: { id: string } };
      return { headers: { cookie: cookieHeader(response) }, userId: body.user.id };
    }
    case 'latchkey-token': {
      const response = await post(`${base}/auth/register`, ACCOUNT);
      const body = (await response.json()) as { user: { id: string }; accessToken: string };
      return { headers: { authorization: `Bearer ${body.accessToken}` }, userId: body.user.id };
    }
    case 'login-cookie': {
      const response = await post(`${base}/login`);
      return { headers: { cookie: cookieHeader(response) }, userId: BENCH_USER_ID };
    }
    case 'login-bearer': {
      const response = await post(`${base}/login`);
      const body = (await response.json()) as { token: string };
      return { headers: { authorization: `Bearer ${body.token}` }, userId: BENCH_USER_ID };
    }
    case 'better-auth': {
      // fetch sends Sec-Fetch-Mode, so better-auth treats it as a browser and wants the
      // Origin a browser would send: its own (the baseURL is trusted by default).
      const response = await post(`${base}/api/auth/sign-up/email`, ACCOUNT, { origin: base });
      const body = (await response.json()) as { user: { id: string } };
      return { headers: { cookie: cookieHeader(response) }, userId: body.user.id };
    }
  }
}

/**
 * Proves the contender really authenticates before it is timed: `/me` with the
 * credential answers 200 with the right id, and (except for the bare servers) `/me`
 * without it answers 401. A contender that answers 401 fast would win every race.
 */
export async function verifyCredential(
  kind: CredentialKind,
  base: string,
  credential: Credential,
  path = '/me',
): Promise<void> {
  const ok = await fetch(`${base}${path}`, { headers: credential.headers });
  const text = await ok.text();
  if (ok.status !== 200)
    throw new Error(`GET ${path} with the credential answered ${ok.status}: ${text}`);
  if (path === '/me') {
    const id = (JSON.parse(text) as { id?: unknown }).id;
    if (id !== credential.userId) {
      throw new Error(`GET /me answered id ${JSON.stringify(id)}, expected ${credential.userId}`);
    }
  }
  if (kind === 'none') return;
  const anonymous = await fetch(`${base}${path}`);
  await anonymous.arrayBuffer();
  if (anonymous.status !== 401) {
    throw new Error(`GET ${path} without a credential answered ${anonymous.status}, expected 401`);
  }
}
