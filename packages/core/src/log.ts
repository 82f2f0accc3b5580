/**
 * Security events worth an audit trail. Never carries a secret, token, password or
 * email. `by` names who acted: the caller's own session id, or `operator` for the
 * operator's commands (`latchkey.admin`, the `latchkey` CLI).
 */
export type SecurityEvent =
  | { event: 'register'; userId: string; ip: string | null }
  | { event: 'password_reset'; userId: string; ip: string | null; revoked: number }
  | {
      event: 'password_reset_failed';
      userId: string | null;
      ip: string | null;
      reason: 'invalid_token' | 'second_factor_missing' | 'second_factor_refused';
    }
  | { event: 'password_reset_limited'; scope: 'email' | 'address'; ip: string | null }
  | { event: 'password_reset_requested'; userId: string | null; ip: string | null }
  | { event: 'email_verified'; userId: string; ip: string | null }
  | { event: 'email_verification_limited'; userId: string; ip: string | null }
  | {
      /** A recovery or verification message could not be handed over; never the link. */
      event: 'mail_failed';
      purpose: string;
      attempt: number;
      retry: boolean;
      error: string;
    }
  | { event: 'mail_sent'; purpose: string; attempt: number }
  | { event: 'mail_written'; purpose: string; path: string }
  | {
      event: 'login_succeeded';
      userId: string;
      sessionId: string;
      ip: string | null;
      /** How the user signed in. @default 'password' */
      method?: LoginMethod;
    }
  | { event: 'login_failed'; userId: string | null; ip: string | null; method?: LoginMethod }
  | {
      event: 'login_locked';
      scope: 'account' | 'device' | 'address';
      userId: string | null;
      ip: string | null;
      method?: LoginMethod;
    }
  | {
      /** A second factor (or a passkey) was added to or removed from the account. */
      event: 'mfa_changed';
      userId: string;
      sessionId: string | null;
      factor: 'totp' | 'passkey' | 'recovery_codes';
      change: 'added' | 'removed';
    }
  | { event: 'logout'; userId: string; sessionId: string }
  | { event: 'session_revoked'; userId: string; sessionId: string; by: string }
  | { event: 'sessions_revoked'; userId: string; count: number; by: string }
  | { event: 'account_deleted'; userId: string; sessions: number; by: string }
  | {
      event: 'login_mfa';
      userId: string;
      sessionId: string;
      ip: string | null;
      method: 'totp' | 'recovery_code';
    }
  | { event: 'mfa_failed'; userId: string; ip: string | null; method: 'totp' | 'recovery_code' }
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

/** How a sign-in was proved: a password (then maybe a second factor) or a passkey. */
export type LoginMethod = 'password' | 'passkey';

export type SecurityLogger = (entry: SecurityEvent & { time: string }) => void;

/** The security events of API.md's log (*Operations*), by name. */
export const AUDIT_EVENTS = [
  'register',
  'login',
  'login_mfa',
  'logout',
  'lockout',
  'session_revoked',
  'password_changed',
  'password_reset',
  'token_reused',
  'cookie_conflict',
  'mfa_changed',
  'account_deleted',
] as const;
export type AuditEventName = (typeof AUDIT_EVENTS)[number];
export type AuditOutcome = 'success' | 'failure' | 'blocked';

/**
 * One line of the security-event log, exactly API.md's schema. Built field by field
 * from an allow-list, so nothing else an event carries (a count, a reason, a future
 * field) can reach the log by accident.
 */
export interface AuditEntry {
  time: string;
  level: 'info' | 'warn';
  event: AuditEventName;
  outcome: AuditOutcome;
  userId?: string;
  sessionId?: string;
  ip: string | null;
  userAgent?: string;
}

type Logged = SecurityEvent & { time: string };
type Mapped = { event: AuditEventName; outcome: AuditOutcome };

/** How each internal event reads in the audit log; `null`: not a security event (operational). */
const AS_AUDIT: Record<SecurityEvent['event'], Mapped | null> = {
  register: { event: 'register', outcome: 'success' },
  register_limited: { event: 'register', outcome: 'blocked' },
  login_succeeded: { event: 'login', outcome: 'success' },
  login_failed: { event: 'login', outcome: 'failure' },
  login_locked: { event: 'lockout', outcome: 'blocked' },
  logout: { event: 'logout', outcome: 'success' },
  session_revoked: { event: 'session_revoked', outcome: 'success' },
  sessions_revoked: { event: 'session_revoked', outcome: 'success' },
  account_deleted: { event: 'account_deleted', outcome: 'success' },
  login_mfa: { event: 'login_mfa', outcome: 'success' },
  mfa_failed: { event: 'login_mfa', outcome: 'failure' },
  refresh_reused: { event: 'token_reused', outcome: 'blocked' },
  password_changed: { event: 'password_changed', outcome: 'success' },
  password_change_failed: { event: 'password_changed', outcome: 'failure' },
  cookie_conflict: { event: 'cookie_conflict', outcome: 'blocked' },
  mfa_changed: { event: 'mfa_changed', outcome: 'success' },
  session_expired: null,
  csrf_refused: null,
  unsafe_options: null,
  hashing_overloaded: null,
  store_unavailable: null,
  password_reset: { event: 'password_reset', outcome: 'success' },
  password_reset_failed: { event: 'password_reset', outcome: 'failure' },
  password_reset_limited: { event: 'password_reset', outcome: 'blocked' },
  password_reset_requested: null,
  email_verified: null,
  email_verification_limited: null,
  mail_failed: null,
  mail_sent: null,
  mail_written: null,
};

const OUTCOMES: readonly string[] = ['success', 'failure', 'blocked'];

/**
 * The audit-log line for an event (API.md: `{ time, level, event, outcome, userId?,
 * sessionId?, ip, userAgent? }`), or `null` for an operational event (a store fault,
 * an overloaded hashing queue, an expired session, a refused cross-origin request).
 * An event not in the table whose name is one of API.md's passes through with its
 * own `outcome` (default `success`).
 */
export function auditEntry(entry: Logged): AuditEntry | null {
  const raw = entry as unknown as Record<string, unknown>;
  const name = raw.event as string;
  let mapped: Mapped | null | undefined = (AS_AUDIT as Record<string, Mapped | null>)[name];
  if (mapped === undefined) {
    if (!(AUDIT_EVENTS as readonly string[]).includes(name)) return null;
    const outcome = typeof raw.outcome === 'string' && OUTCOMES.includes(raw.outcome);
    mapped = {
      event: name as AuditEventName,
      outcome: outcome ? (raw.outcome as AuditOutcome) : 'success',
    };
  }
  if (mapped === null) return null;
  const line: AuditEntry = {
    time: entry.time,
    level: mapped.outcome === 'success' ? 'info' : 'warn',
    event: mapped.event,
    outcome: mapped.outcome,
    ip: typeof raw.ip === 'string' ? raw.ip : null,
  };
  if (typeof raw.userId === 'string') line.userId = raw.userId;
  if (typeof raw.sessionId === 'string') line.sessionId = raw.sessionId;
  if (typeof raw.userAgent === 'string') line.userAgent = raw.userAgent;
  return line;
}

const OPERATIONAL_LEVEL: Partial<Record<string, string>> = {
  store_unavailable: 'error',
  session_expired: 'info',
  password_reset_requested: 'info',
  email_verified: 'info',
  mail_sent: 'info',
  mail_written: 'info',
};

/** Where the JSON-lines logger writes: security events, and operational events. */
export interface LogWriters {
  /** One audit line (with its newline). @default process.stdout.write */
  audit(line: string): void;
  /** One operational line (with its newline). @default process.stderr.write */
  operational(line: string): void;
}

/**
 * A logger that writes one JSON line per event. Security events: API.md's schema
 * (`auditEntry`) to `audit`; operational events (store faults, hashing overload,
 * unsafe options, refused cross-origin requests, expired sessions) to `operational`.
 */
export function createJsonLineLogger(writers: LogWriters): SecurityLogger {
  return (entry) => {
    const audit = auditEntry(entry);
    if (audit) {
      writers.audit(`${JSON.stringify(audit)}\n`);
      return;
    }
    const level = OPERATIONAL_LEVEL[entry.event] ?? 'warn';
    writers.operational(`${JSON.stringify({ level, source: 'latchkey', ...entry })}\n`);
  };
}

/**
 * Default logger: security events as JSON lines on stdout (API.md's schema), easy to
 * ship to a log pipeline; operational events as JSON lines on stderr. Node writes both
 * synchronously to files and pipes, so a line logged before exit is not lost.
 */
export const jsonLineLogger: SecurityLogger = createJsonLineLogger({
  audit: (line) => void process.stdout.write(line),
  operational: (line) => void process.stderr.write(line),
});
