/**
 * Cookie parsing and serialisation. Parsing never throws: a malformed header from
 * one client must not break anything (Lucia v3 did). Serialisation enforces the
 * prefix rules at runtime so a mis-configured cookie fails loudly in development
 * instead of being silently dropped by the browser.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

/**
 * RFC 6265's optional whitespace: only SP and HTAB. `String.prototype.trim` also strips
 * U+00A0 and other Unicode spaces, so `\u00A0__Host-Http-session` — a name a sibling
 * subdomain may set, since the browser applies no prefix rule to it — would read as
 * the credential cookie.
 */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return text.slice(start, end);
}

/** Every value sent under exactly `name` (byte for byte), in header order; malformed ones as null. */
function valuesOf(header: string | null, name: string): (string | null)[] {
  const values: (string | null)[] = [];
  if (!header || header.length > 16_384) return values;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || trimOws(part.slice(0, eq)) !== name) continue;
    let value = trimOws(part.slice(eq + 1));
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    values.push(VALUE.test(value) ? value : null);
  }
  return values;
}

/**
 * Returns the first cookie with exactly that name, or null. Names are compared byte
 * for byte; only SP/HTAB around a name or value are ignored. Ignores anything malformed.
 */
export function readCookie(header: string | null, name: string): string | null {
  return valuesOf(header, name)[0] ?? null;
}

/** A credential cookie as the request carries it: absent, once, or more than once. */
export type CredentialCookie =
  { conflict: false; value: string | null } | { conflict: true; value: null };

/**
 * Reads a credential cookie that must appear at most once. A second cookie of the
 * same name can only come from somewhere else — a sibling subdomain planting one
 * with a `Domain` attribute — and nothing tells which is genuine, so a duplicate is a
 * conflict for the caller to refuse (never to resolve by picking one).
 */
export function readCredentialCookie(header: string | null, name: string): CredentialCookie {
  const values = valuesOf(header, name);
  if (values.length > 1) return { conflict: true, value: null };
  return { conflict: false, value: values[0] ?? null };
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
