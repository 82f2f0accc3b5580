import type { ServerResponse } from 'node:http';

/**
 * What to add to a Node response's head when it is written: each header only when
 * neither the head being written nor the response (`setHeader`) has it already, so
 * a header the app set wins.
 */
export interface HeadAdditions {
  /** The security headers as `[name, lower-case name, value]`, or null for none. */
  secure: readonly (readonly [string, string, string])[] | null;
  /** `Cache-Control: no-store`: an answer about a signed-in user. */
  noStore: boolean;
}

const ADDITIONS = Symbol('latchkey.headAdditions');
type WriteHead = (status: number, ...rest: unknown[]) => ServerResponse;
type Extended = ServerResponse & { [ADDITIONS]?: HeadAdditions };

/**
 * The additions of this response, made on first call: its `writeHead` then merges
 * them into the head it is given. Used where the head is written by someone else
 * (@hono/node-server writes the app's Response), instead of `setHeader` per header
 * beforehand: that cost ten header validations per answer and sent `writeHead` down
 * its slow path (each of the Response's headers set again one by one). Measured
 * in-process on the reference app's GET /api/notes: the header work was about an
 * eighth of the request.
 */
export function headAdditions(res: ServerResponse): HeadAdditions {
  const extended = res as Extended;
  const existing = extended[ADDITIONS];
  if (existing) return existing;
  const additions: HeadAdditions = { secure: null, noStore: false };
  extended[ADDITIONS] = additions;
  // The one in place now: another layer may have wrapped it too.
  const writeHead = res.writeHead.bind(res) as WriteHead;
  (res as unknown as { writeHead: WriteHead }).writeHead = (status, ...rest) => {
    // writeHead(status[, statusMessage][, headers])
    const messageGiven = typeof rest[0] === 'string';
    const given = flatten(messageGiven ? rest[1] : rest[0]);
    const head = withAdditions(res, given, additions);
    return messageGiven ? writeHead(status, rest[0], head) : writeHead(status, head);
  };
  return additions;
}

/** Node's header forms (record, flat list, list of pairs, none) as one flat list. */
function flatten(headers: unknown): unknown[] {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers)) {
    return headers.length > 0 && Array.isArray(headers[0])
      ? (headers as unknown[][]).flat()
      : (headers as unknown[]);
  }
  const flat: unknown[] = [];
  const record = headers as Record<string, unknown>;
  for (const name in record) flat.push(name, record[name]);
  return flat;
}

function withAdditions(res: ServerResponse, given: unknown[], additions: HeadAdditions): unknown[] {
  // Lower-case names already in the head or on the response (usually two or three).
  const present = res.getHeaderNames();
  for (let i = 0; i < given.length; i += 2) present.push(String(given[i]).toLowerCase());
  const head: unknown[] = [];
  if (additions.secure) {
    for (const [name, lower, value] of additions.secure) {
      if (!present.includes(lower)) head.push(name, value);
    }
  }
  if (additions.noStore && !present.includes('cache-control')) {
    head.push('Cache-Control', 'no-store');
  }
  if (head.length === 0) return given;
  for (const item of given) head.push(item);
  return head;
}

/** Latchkey's own answers carry the security headers already: none to add to them. */
export function answeredByLatchkey(res: ServerResponse): void {
  const additions = (res as Extended)[ADDITIONS];
  if (additions) additions.secure = null;
}
