import type { OperatorSession } from '@latchkey/core';
import { defineCommand, type Group } from '../command.js';
import { EXIT, usageError } from '../errors.js';
import { EMAIL_OPTION, emailOption, JSON_OPTION, plural } from './shared.js';

/** `2026-11-22T10:00:00Z`: seconds are enough for an operator. */
const time = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');

/** Columns padded to their widest cell; the last one is left ragged. */
function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

function sessionTable(sessions: OperatorSession[]): string[] {
  return table([
    ['ID', 'CREATED', 'LAST SEEN', 'EXPIRES', 'IP', 'USER AGENT'],
    ...sessions.map((s) => [
      s.id,
      time(s.createdAt),
      time(s.lastSeenAt),
      // Whichever comes first: idle or absolute expiry.
      time(s.idleExpiresAt < s.expiresAt ? s.idleExpiresAt : s.expiresAt),
      s.ip ?? '-',
      (s.userAgent ?? '-').slice(0, 60),
    ]),
  ]);
}

const list = defineCommand({
  name: 'sessions list',
  summary: "list an account's active sessions",
  synopsis: '--email EMAIL [--json]',
  details: [
    "Lists the account's sessions that have not expired (refresh families in token mode), oldest first: id, when it started, was last used and will expire, and the address and browser it started from. Never a secret.",
  ],
  options: { email: EMAIL_OPTION, json: JSON_OPTION },
  usesConfig: true,
  async run(values, io, env) {
    const email = emailOption('sessions list', values.email);
    const { failed, withLatchkey } = await import('../operator.js');
    return withLatchkey(env, io, async (latchkey) => {
      const result = await latchkey.admin.listSessions(email);
      if (!result.ok) throw failed(email, result.error);
      const { user, sessions } = result;
      if (values.json) {
        io.out(JSON.stringify({ user, sessions }));
        return EXIT.ok;
      }
      io.out(`${user.email} (user ${user.id}): ${plural(sessions.length, 'active session')}`);
      if (sessions.length > 0) io.out(sessionTable(sessions).join('\n'));
      return EXIT.ok;
    });
  },
});

const revoke = defineCommand({
  name: 'sessions revoke',
  summary: "end one or all of an account's sessions, on every server at once",
  synopsis: '--email EMAIL (--all | --id SESSION_ID) [--json]',
  details: [
    "Ends the account's sessions (refresh families in token mode) in the store. With Redis, the servers' near-caches are told at once, so the next request on any server is refused. In token mode an access token already issued stays valid until it expires (at most LATCHKEY_ACCESS_TTL) only if the servers run with statelessAccess; otherwise it dies with its session.",
  ],
  options: {
    email: EMAIL_OPTION,
    all: { type: 'boolean' as const, description: 'every session of the account' },
    id: {
      type: 'string' as const,
      value: 'SESSION_ID',
      description: 'one session, by the id `latchkey sessions list` shows',
    },
    json: JSON_OPTION,
  },
  usesConfig: true,
  async run(values, io, env) {
    const command = 'sessions revoke';
    const email = emailOption(command, values.email);
    if (values.all && values.id !== undefined) {
      throw usageError(command, 'give --all or --id SESSION_ID, not both');
    }
    if (!values.all && values.id === undefined) {
      throw usageError(command, 'say which sessions: --all, or --id SESSION_ID');
    }
    const id = values.id?.trim();
    if (id === '') throw usageError(command, '--id needs a session id');
    const { failed, withLatchkey } = await import('../operator.js');
    return withLatchkey(env, io, async (latchkey) => {
      if (id !== undefined) {
        const result = await latchkey.admin.revokeSession(email, id);
        if (!result.ok) throw failed(`${email}, session ${id}`, result.error);
        if (values.json) io.out(JSON.stringify({ user: result.user, revoked: 1, sessionId: id }));
        else io.out(`Revoked session ${id} of ${result.user.email}.`);
        return EXIT.ok;
      }
      const result = await latchkey.admin.revokeSessions(email);
      if (!result.ok) throw failed(email, result.error);
      if (values.json) io.out(JSON.stringify({ user: result.user, revoked: result.revoked }));
      else io.out(`Revoked ${plural(result.revoked, 'session')} of ${result.user.email}.`);
      return EXIT.ok;
    });
  },
});

export const sessionsGroup: Group = {
  name: 'sessions',
  summary: "An account's sessions (refresh families in token mode), found by its email.",
  commands: [list, revoke],
};
