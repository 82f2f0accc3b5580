/**
 * Cookie parsing and serialisation. Parsing never throws: a malformed header from
 * one client must not break anything (Lucia v3 did). Serialisation enforces the
 * prefix rules at runtime so a mis-configured cookie fails loudly in development
 * instead of being silently dropped by the browser.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

/** Returns the first cookie with that name, or null. Ignores anything malformed. */
export function readCookie(header: string | null, name: string): string | null {
  if (!header || header.length > 16_384) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    return VALUE.test(value) ? value : null;
  }
  return null;
}

export interface CookieAttributes {
  path: string;
  httpOnly: boolean;
  secure: boolean;
  sameSite: 'Strict' | 'Lax' | 'None';
  /** Seconds; 0 deletes the cookie. Omitted makes a browser-session cookie. */
  maxAge?: number;
}

export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  if (!TOKEN.test(name)) throw new TypeError(`invalid cookie name ${JSON.stringify(name)}`);
  if (!VALUE.test(value)) throw new TypeError(`invalid characters in the value of cookie ${name}`);
  if (name.startsWith('__Host-')) {
    if (!attributes.secure || attributes.path !== '/') {
      throw new TypeError(`${name}: __Host- cookies need Secure and Path=/ (and no Domain)`);
    }
    if (name.startsWith('__Host-Http-') && !attributes.httpOnly) {
      throw new TypeError(`${name}: __Host-Http- cookies need HttpOnly`);
    }
  }
  if (name.startsWith('__Secure-') && !attributes.secure) {
    throw new TypeError(`${name}: __Secure- cookies need Secure`);
  }
  const parts = [`${name}=${value}`, `Path=${attributes.path}`];
  if (attributes.maxAge !== undefined)
    parts.push(`Max-Age=${Math.max(0, Math.floor(attributes.maxAge))}`);
  if (attributes.httpOnly) parts.push('HttpOnly');
  if (attributes.secure) parts.push('Secure');
  parts.push(`SameSite=${attributes.sameSite}`);
  return parts.join('; ');
}
