import { createInterface } from 'node:readline/promises';

/** Where a command writes and what it may ask; injectable for tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Asks a yes/no question on a terminal; null when stdin is not one (a script). */
  confirm(question: string): Promise<boolean | null>;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** The process's own streams. */
export const processIo: Io = {
  out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  async confirm(question) {
    if (!process.stdin.isTTY) return null;
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  },
};
