import { createAuthClient, LatchkeyError } from '@latchkey/client';

/** The page's one client: same origin, so the session cookie travels and nothing else. */
export const auth = createAuthClient();

/**
 * The notes API through `auth.fetch`, so unsafe requests carry the CSRF header.
 * Throws `LatchkeyError` on any failure; `204` resolves to `undefined`.
 */
export async function api<T = undefined>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const response = await auth.fetch(path, init);
  if (!response.ok) throw await LatchkeyError.fromResponse(response);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

export interface Note {
  id: string;
  text: string;
  createdAt: string;
}
