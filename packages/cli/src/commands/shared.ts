import { usageError } from '../errors.js';

/** `--email`, required and shaped like an address (the core normalises it). */
export function emailOption(command: string, email: string | undefined): string {
  if (email === undefined) throw usageError(command, '--email EMAIL is required');
  if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) {
    throw usageError(command, `--email expects an email address, got ${JSON.stringify(email)}`);
  }
  return email.trim();
}

export const EMAIL_OPTION = {
  type: 'string' as const,
  value: 'EMAIL',
  description: "the account's email address",
};

export const JSON_OPTION = {
  type: 'boolean' as const,
  description: 'print the result as one line of JSON (docs/CLI.md has the shapes)',
};

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
