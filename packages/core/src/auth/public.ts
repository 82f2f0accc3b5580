import { createBoundedCache } from '../bounded-cache.js';
import type { SessionRecord, UserRecord } from '../stores/types.js';
import type { PublicUser, SessionInfo, SessionListItem } from '../wire.js';

// The same few instants (a user's creation, a session's expiries) are formatted on
// every `GET /session`: remember their text.
const isoTexts = createBoundedCache<string, number>(10_000);
const iso = (ms: number): string => {
  let text = isoTexts.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    isoTexts.set(ms, text);
  }
  return text;
};

/** A user as the wire shows it: never the password hash. */
export function toPublicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    createdAt: iso(user.createdAt),
    emailVerified: user.emailVerifiedAt !== null,
    mfa: [...user.mfa],
  };
}

export function toSessionInfo(session: SessionRecord): SessionInfo {
  return {
    id: session.id,
    createdAt: iso(session.createdAt),
    expiresAt: iso(session.expiresAt),
    idleExpiresAt: iso(session.idleExpiresAt),
  };
}

export function toSessionListItem(session: SessionRecord, currentId: string): SessionListItem {
  return {
    id: session.id,
    createdAt: iso(session.createdAt),
    lastSeenAt: iso(session.lastSeenAt),
    expiresAt: iso(session.expiresAt),
    userAgent: session.userAgent,
    ip: session.ip,
    current: session.id === currentId,
  };
}
