/**
 * The page a recovery link opened: `/reset#token=…` or `/verify#token=…`. Imported first
 * by main.tsx, so it runs before anything else on the page: the token is read from the
 * fragment and the fragment is removed from the address bar (history.replaceState) at
 * once, before the app renders, fetches or registers anything — it never lands in the
 * history, a bookmark, a shared screen, or a `Referer`. The token is kept in this
 * module's memory only, never in storage.
 */
export type LinkPage = 'reset' | 'verify';

export interface OpenedLink {
  page: LinkPage;
  /** Null when the link came without a token (cut off when copied, say). */
  token: string | null;
}

function take(): OpenedLink | null {
  const { pathname, hash } = window.location;
  const page = pathname === '/reset' ? 'reset' : pathname === '/verify' ? 'verify' : null;
  if (!page) return null;
  const token = /^#token=([A-Za-z0-9_-]{1,512})$/.exec(hash)?.[1] ?? null;
  if (hash) window.history.replaceState(window.history.state, '', pathname);
  return { page, token };
}

export const openedLink: OpenedLink | null = take();
