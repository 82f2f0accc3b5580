import { useEffect, useState } from 'react';

/**
 * `Sign in with <provider>` when the server signs in through an OpenID provider (its
 * `/config.json` names it). A plain link: the browser goes to the provider and comes back
 * to the server's callback, which starts the session; no token ever reaches this page.
 */
export function SsoSignIn() {
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    fetch('/config.json', { cache: 'no-store', credentials: 'omit' })
      .then((response) => (response.ok ? (response.json() as Promise<unknown>) : null))
      .then((config) => {
        const oidc = (config as { oidc?: { name?: unknown } } | null)?.oidc;
        if (live && typeof oidc?.name === 'string') setName(oidc.name);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  if (name === null) return null;
  const returnTo = encodeURIComponent(location.pathname + location.search);
  return (
    <p className="sso">
      <a className="button secondary" href={`/auth/oidc/login?returnTo=${returnTo}`}>
        Sign in with {name}
      </a>
    </p>
  );
}
