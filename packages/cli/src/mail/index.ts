/*
 * @latchkey/cli/mail: the `Mailer` the reference server gives the core, over nodemailer.
 *
 * - With an SMTP URL: `smtps://` speaks TLS from the first byte; `smtp://` must upgrade
 *   with STARTTLS (a loopback host may stay plain, for a local relay). Connection,
 *   greeting and socket timeouts bound every attempt. A message that cannot be handed
 *   over is retried with exponential backoff (1 s, 2 s, 4 s … at most 2 min apart, 10
 *   attempts ≈ 10 minutes); a permanent refusal (an SMTP 5xx) is not retried.
 * - Without one (development only, see LATCHKEY_SMTP_URL): each message is written to
 *   `<data dir>/mail/` as an `.eml` file, readable only by the server's user.
 *
 * Messages wait in memory, at most `queueLimit` at a time (beyond that `send` refuses,
 * and the core logs it); a restart loses what was waiting: the person asks again.
 * Nothing logged carries the message, its link or the recipient: an attempt is logged as
 * its purpose, its number and an error code.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Mailer, MailMessage, SecurityEvent, SecurityLogger } from '@latchkey/core';
import nodemailer from 'nodemailer';

export interface MailerOptions {
  /** `smtp://` or `smtps://` URL of the mail server; null writes `.eml` files instead. */
  smtpUrl: string | null;
  /** The sender, e.g. `Latchkey <no-reply@example.com>`. */
  from: string;
  /** Without `smtpUrl`: messages go to `<dataDir>/mail/`. */
  dataDir: string;
  /** Receives `mail_sent`, `mail_failed` and `mail_written` events. @default none */
  logger?: SecurityLogger;
  /** Messages waiting or being sent at most; `send` refuses beyond. @default 1000 */
  queueLimit?: number;
  /** Attempts per message, the first included. @default 10 */
  maxAttempts?: number;
  /** Wait before the first retry; it doubles each time. @default 1000 */
  retryDelayMs?: number;
  /** Longest wait between two attempts. @default 120000 */
  maxRetryDelayMs?: number;
  /** Messages being handed over at once. @default 2 */
  concurrency?: number;
  /** How long `close` waits for the messages being handed over. @default 5000 */
  closeWaitMs?: number;
  /** TCP connect / server greeting / idle socket timeouts. @default 10 s / 10 s / 30 s */
  timeouts?: { connectionMs?: number; greetingMs?: number; socketMs?: number };
}

/** A mailer the server owns: it stops (and drops what waits) on `close`. */
export interface ServerMailer extends Mailer {
  /** Messages queued, being sent, or waiting for a retry. */
  readonly pending: number;
  /** Stops retrying and drops what waits (logged); waits (briefly) for what is being sent. */
  close(): Promise<void>;
}

interface Job {
  message: MailMessage;
  attempt: number;
}

/** An error as a short code, never its message (which may quote the recipient). */
function errorCode(error: unknown): string {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const name =
    typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code)
      ? code
      : error instanceof Error
        ? error.name
        : 'Error';
  return typeof responseCode === 'number' ? `${name}_${responseCode}` : name;
}

const permanent = (error: unknown) => {
  const { responseCode } = (error ?? {}) as { responseCode?: unknown };
  return typeof responseCode === 'number' && responseCode >= 500;
};

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

function smtpTransport(url: string, from: string, options: MailerOptions) {
  const { hostname, protocol } = new URL(url);
  const timeouts = options.timeouts ?? {};
  return nodemailer.createTransport(
    {
      url,
      connectionTimeout: timeouts.connectionMs ?? 10_000,
      greetingTimeout: timeouts.greetingMs ?? 10_000,
      socketTimeout: timeouts.socketMs ?? 30_000,
      // smtp:// to another machine must upgrade with STARTTLS, never silently stay plain.
      requireTLS: protocol === 'smtp:' && !isLoopback(hostname),
      tls: { minVersion: 'TLSv1.2' },
      disableFileAccess: true,
      disableUrlAccess: true,
    },
    { from },
  );
}

/**
 * Creates the server's mailer (see the module comment). `send` resolves as soon as the
 * message is queued; it rejects only when the queue is full or the mailer closed.
 */
export function createMailer(options: MailerOptions): ServerMailer {
  const queueLimit = options.queueLimit ?? 1000;
  const maxAttempts = options.maxAttempts ?? 10;
  const firstDelay = options.retryDelayMs ?? 1000;
  const maxDelay = options.maxRetryDelayMs ?? 120_000;
  const concurrency = options.concurrency ?? 2;
  const closeWaitMs = options.closeWaitMs ?? 5000;
  const log = (event: SecurityEvent) =>
    options.logger?.({ ...event, time: new Date().toISOString() });

  const deliver: (message: MailMessage) => Promise<void> = options.smtpUrl
    ? smtpDelivery(options.smtpUrl, options)
    : fileDelivery(options, log);

  const ready: Job[] = [];
  const waiting = new Set<ReturnType<typeof setTimeout>>();
  const inFlight = new Set<Promise<void>>();
  let active = 0;
  let pending = 0;
  let closed = false;

  const finish = () => {
    pending -= 1;
  };

  const attempt = async (job: Job) => {
    const purpose = job.message.purpose ?? 'mail';
    job.attempt += 1;
    try {
      await deliver(job.message);
      if (options.smtpUrl) log({ event: 'mail_sent', purpose, attempt: job.attempt });
      finish();
    } catch (error) {
      const retry = !closed && job.attempt < maxAttempts && !permanent(error);
      log({ event: 'mail_failed', purpose, attempt: job.attempt, retry, error: errorCode(error) });
      if (!retry) {
        finish();
        return;
      }
      const delay = Math.min(maxDelay, firstDelay * 2 ** (job.attempt - 1));
      const timer = setTimeout(() => {
        waiting.delete(timer);
        ready.push(job);
        pump();
      }, delay);
      timer.unref();
      waiting.add(timer);
    }
  };

  function pump() {
    while (!closed && active < concurrency && ready.length > 0) {
      const job = ready.shift() as Job;
      active += 1;
      const running = attempt(job).finally(() => {
        active -= 1;
        inFlight.delete(running);
        pump();
      });
      inFlight.add(running);
    }
  }

  return {
    get pending() {
      return pending;
    },
    send(message) {
      if (closed) return Promise.reject(Object.assign(new Error('closed'), { code: 'ECLOSED' }));
      if (pending >= queueLimit) {
        return Promise.reject(Object.assign(new Error('queue full'), { code: 'EQUEUEFULL' }));
      }
      pending += 1;
      ready.push({ message, attempt: 0 });
      pump();
      return Promise.resolve();
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      for (const timer of waiting) clearTimeout(timer);
      waiting.clear();
      for (const job of ready.splice(0)) {
        log({
          event: 'mail_failed',
          purpose: job.message.purpose ?? 'mail',
          attempt: job.attempt,
          retry: false,
          error: 'ECLOSED',
        });
      }
      // What is being handed over now may finish (a file being written, a message being
      // sent), for at most `closeWaitMs`: shutdown does not hang on a stuck mail server.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cap = new Promise<void>((resolve) => (timer = setTimeout(resolve, closeWaitMs)));
      return Promise.race([Promise.allSettled([...inFlight]).then(() => undefined), cap]).finally(
        () => clearTimeout(timer),
      );
    },
  };
}

function smtpDelivery(url: string, options: MailerOptions) {
  return async (message: MailMessage) => {
    // A connection per message: a restarted or failed-over mail server is simply
    // reached again, and a stuck connection cannot hold the queue.
    const transport = smtpTransport(url, options.from, options);
    try {
      await transport.sendMail({
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    } finally {
      transport.close();
    }
  };
}

function fileDelivery(options: MailerOptions, log: (event: SecurityEvent) => void) {
  const folder = join(options.dataDir, 'mail');
  const transport = nodemailer.createTransport(
    { streamTransport: true, buffer: true, newline: 'unix' },
    { from: options.from },
  );
  return async (message: MailMessage) => {
    const info = await transport.sendMail({
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const path = join(folder, `${stamp}-${randomBytes(4).toString('hex')}.eml`);
    await writeFile(path, info.message as Buffer, { mode: 0o600 });
    // The path, never the link: the file is readable only by the server's user.
    log({ event: 'mail_written', purpose: message.purpose ?? 'mail', path });
  };
}
