import { provider } from '../auth.js';

/**
 * `Sign in with <provider>` when the server signs in through an OpenID provider (its
 * `/config.json` names it). A plain link: the browser goes to the provider and comes back
 * to the server's callback, which starts the session; no token ever reaches this page.
 */
export function SsoSignIn() {
  if (provider === null) return null;
  const returnTo = encodeURIComponent(location.pathname + location.search);
  return (
    <p className="sso">
      <a className="button secondary" href={`/auth/oidc/login?returnTo=${returnTo}`}>
        Sign in with {provider}
      </a>
    </p>
  );
}
