import type { Agent } from './harness.js';

/** A browser's cookie jar for the provider's site, by name (its cookie names are distinct). */
class Jar {
  readonly cookies = new Map<string, string>();
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line) || value === '') {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, value);
      }
    }
  }
}

/**
 * What a browser does between `GET /auth/oidc/login` and the provider's redirect back:
 * the provider's development login form (any login, any password), consent given
 * automatically. Returns the callback URL (with `code`, `state` and `iss`), not
 * followed, so a test can present it as it likes.
 */
export async function loginAtProvider(
  startUrl: string,
  login: string,
  jar = new Jar(),
): Promise<string> {
  let url = startUrl;
  for (let hop = 0; hop < 10; hop++) {
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.take(response);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      const next = new URL(location, url).href;
      if (next.includes('/auth/oidc/callback')) return next;
      url = next;
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (response.status !== 200 || !action) {
      throw new Error(`provider answered ${response.status}: ${html.slice(0, 300)}`);
    }
    const form = new URLSearchParams({ prompt: 'login', login, password: 'any password' });
    const posted = await fetch(new URL(action.replace(/&amp;/g, '&'), url), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    jar.take(posted);
    const after = posted.headers.get('location');
    if (!after) throw new Error(`provider login answered ${posted.status}`);
    url = new URL(after, url).href;
  }
  throw new Error('too many redirects at the provider');
}

/**
 * A whole sign-in through the provider for an HTTP agent: `GET /auth/oidc/login`, the
 * provider's login, then the callback with the agent's transaction cookie. Returns the
 * callback's answer.
 */
export async function signInThroughProvider(agent: Agent, login: string, returnTo = '/notes') {
  const start = await startLogin(agent, returnTo);
  const callback = await loginAtProvider(start, login);
  const { pathname, search } = new URL(callback);
  return agent.request('GET', pathname + search, { headers: { accept: 'text/html' } });
}

/** `GET /auth/oidc/login` without following it: the agent keeps the transaction cookie. */
export async function startLogin(agent: Agent, returnTo = '/'): Promise<string> {
  const cookie = [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const response = await fetch(
    new URL(`/auth/oidc/login?returnTo=${encodeURIComponent(returnTo)}`, agent.baseUrl),
    { redirect: 'manual', headers: cookie ? { cookie } : {} },
  );
  for (const line of response.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    agent.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) {
    throw new Error(`login answered ${response.status} ${await response.text()}`);
  }
  return location;
}
