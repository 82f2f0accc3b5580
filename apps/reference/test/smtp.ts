import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on loopback that keeps what it receives, parsed. */
export interface MailSink {
  /** `smtp://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly messages: ParsedMail[];
  /** The first message to `to` (received already, or the next one). */
  next(to: string, after?: number): Promise<ParsedMail>;
  /** Messages received for `to` so far. */
  to(to: string): ParsedMail[];
  /** Stops listening (the address refuses connections) but keeps what it received. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const recipients = (mail: ParsedMail) =>
  [mail.to ?? []].flat().flatMap((address) => address.value.map((v) => v.address ?? ''));

/**
 * Starts an SMTP peer (smtp-server) on a free loopback port: no TLS on loopback, any
 * or no authentication; each message is parsed with mailparser.
 */
export async function startMailSink(): Promise<MailSink> {
  const messages: ParsedMail[] = [];
  const waiters: { to: string; resolve: (mail: ParsedMail) => void }[] = [];
  const make = () =>
    new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream).then(
          (mail) => {
            messages.push(mail);
            for (const waiter of [...waiters]) {
              if (recipients(mail).includes(waiter.to)) {
                waiters.splice(waiters.indexOf(waiter), 1);
                waiter.resolve(mail);
              }
            }
            callback();
          },
          (error: unknown) => callback(error as Error),
        );
      },
    });
  let server = make();
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () =>
        resolve((server.server.address() as AddressInfo).port),
      );
    });
  const port = await listen(0);
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    to: (to) => messages.filter((mail) => recipients(mail).includes(to)),
    next(to, after = 0) {
      const found = messages.filter((mail) => recipients(mail).includes(to))[after];
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ to, resolve }));
    },
    stop,
    async start() {
      server = make();
      await listen(port);
    },
    close: stop,
  };
}

/** The token of a `/reset#token=…` or `/verify#token=…` link in a message's text. */
export function linkToken(
  mail: ParsedMail,
  page: 'reset' | 'verify',
): { link: string; token: string } {
  const match = new RegExp(`(https?://\\S+/${page}#token=([A-Za-z0-9_-]{43}))`).exec(
    mail.text ?? '',
  );
  if (!match) throw new Error(`no /${page} link in the message`);
  return { link: match[1] as string, token: match[2] as string };
}
