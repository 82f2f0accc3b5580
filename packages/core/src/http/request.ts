import { readCredentialCookie } from '../cookies.js';
import { fail, type LatchkeyError } from '../errors.js';
import type { SecurityEvent } from '../log.js';
import { crossOriginRefusal } from '../origin.js';
import type { LatchkeyConfig } from '../config.js';
import type { ClientInfo } from '../session.js';
import type { ConnectionInfo, RequestHead } from './types.js';

/** Reading what a request says about its sender: address, cookies, origin. */
export interface RequestReader {
  client(request: RequestHead, connection?: ConnectionInfo): ClientInfo;
  /**
   * A credential cookie's value. Sent twice, it is a conflict: a sibling subdomain
   * planted one, nothing says which is genuine, so the request is refused
   * (`unauthenticated`, thrown) and the genuine cookie is left alone: clearing it is
   * what the attacker wants.
   */
  credential(request: RequestHead, name: string, connection?: ConnectionInfo): string | null;
  /** `csrf_failed` when an unsafe request comes from another site or origin; else null. */
  crossOriginRefusal(request: RequestHead, connection?: ConnectionInfo): LatchkeyError | null;
}

export function createRequestReader(
  config: LatchkeyConfig,
  log: (event: SecurityEvent) => void,
): RequestReader {
  const client = (request: RequestHead, connection?: ConnectionInfo): ClientInfo => {
    let ip = connection?.remoteAddress ?? null;
    if (config.trustedProxies > 0) {
      const hops = (request.headers.get('x-forwarded-for') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      ip = hops[hops.length - config.trustedProxies] ?? ip;
    }
    return { userAgent: request.headers.get('user-agent'), ip };
  };
  return {
    client,
    credential(request, name, connection) {
      const read = readCredentialCookie(request.headers.get('cookie'), name);
      if (!read.conflict) return read.value;
      log({ event: 'cookie_conflict', cookie: name, ip: client(request, connection).ip });
      throw fail('unauthenticated');
    },
    crossOriginRefusal(request, connection) {
      const refusal = crossOriginRefusal(request, config);
      if (!refusal) return null;
      log({ event: 'csrf_refused', reason: refusal, ip: client(request, connection).ip });
      return fail('csrf_failed');
    },
  };
}
