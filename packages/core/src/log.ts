/**
 * Security events worth an audit trail. Never carries a secret, token, password or
 * email. `by` names who acted: the caller's own session id, or `operator` for the
 * operator's commands (`latchkey.admin`, the `latchkey` CLI).
 */
export type SecurityEvent =
  | { event: 'register'; userId: string; ip: string | null }
  | { event: 'login_succeeded'; userId: string; sessionId: string; ip: string | null }
  | { event: 'login_failed'; userId: string | null; ip: string | null }
  | {
      event: 'login_locked';
      scope: 'account' | 'device' | 'address';
      userId: string | null;
      ip: string | null;
    }
  | { event: 'logout'; userId: string; sessionId: string }
  | { event: 'session_revoked'; userId: string; sessionId: string; by: string }
  | { event: 'sessions_revoked'; userId: string; count: number; by: string }
  | { event: 'account_deleted'; userId: string; sessions: number; by: string }
  | { event: 'session_expired'; userId: string; sessionId: string }
  | { event: 'refresh_reused'; userId: string; sessionId: string; ip: string | null }
  | { event: 'password_changed'; userId: string; sessionId: string; revoked: number }
  | { event: 'password_change_failed'; userId: string; ip: string | null }
  | { event: 'csrf_refused'; reason: string; ip: string | null }
  | { event: 'cookie_conflict'; cookie: string; ip: string | null }
  | { event: 'unsafe_options'; options: string[] }
  | { event: 'register_limited'; ip: string | null }
  | { event: 'hashing_overloaded'; waiting: number }
  | { event: 'store_unavailable'; operation: string; error: string };

export type SecurityLogger = (entry: SecurityEvent & { time: string }) => void;

/** Default logger: one JSON line per event on stdout, easy to ship to a log pipeline. */
export const jsonLineLogger: SecurityLogger = (entry) => {
  process.stdout.write(`${JSON.stringify({ level: 'info', source: 'latchkey', ...entry })}\n`);
};
