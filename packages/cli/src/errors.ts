/** The exit codes of every command (docs/CLI.md). */
export const EXIT = {
  ok: 0,
  /** The command could not do what was asked: an unknown email or session, bad configuration. */
  failed: 1,
  /** The command line is wrong: an unknown command or option, a missing value. */
  usage: 2,
  /** A store could not be reached (or is held by a running server): try again later. */
  unavailable: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure to report as one line on stderr, with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(oneLine(message), options);
  }
}

/** A usage error of `command` (e.g. `sessions list`; '' for the top level), pointing at its help. */
export function usageError(command: string, message: string): CliError {
  const help = command ? `latchkey ${command} --help` : 'latchkey --help';
  return new CliError(`${command ? `${command}: ` : ''}${message} (see: ${help})`, EXIT.usage);
}

/** Whitespace runs (newlines included) folded to one space: every report is one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * What went wrong, for an operator: the first of an AggregateError (a host that
 * resolved to several addresses), the message or else the code; a password in a URL
 * is masked.
 */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return describeError(error.errors[0]);
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const text = error.message || (typeof code === 'string' ? code : error.name);
    return oneLine(text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1***@'));
  }
  return oneLine(String(error));
}
