import { readFileSync } from 'node:fs';
import {
  commandHelp,
  groupHelp,
  HELP_FLAGS,
  parseOptions,
  type Command,
  type Group,
} from './command.js';
import { keysGroup } from './commands/keys.js';
import { secretCommand } from './commands/secret.js';
import { sessionsGroup } from './commands/sessions.js';
import { usersGroup } from './commands/users.js';
import { CliError, describeError, EXIT, usageError } from './errors.js';
import { processIo, type Env, type Io } from './io.js';

const GROUPS: readonly Group[] = [keysGroup, sessionsGroup, usersGroup];
const LEAVES: readonly Command[] = [secretCommand];

function version(): string {
  const file = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function topHelp(): string {
  const commands = [...LEAVES, ...GROUPS.flatMap((g) => g.commands)];
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: latchkey <command> [options]',
    '',
    "The operator's command for Latchkey: secrets, signing keys, and accounts' sessions, on the server's own configuration and stores.",
    '',
    'Commands:',
    ...commands.map((c) => `  latchkey ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options: -h, --help (on every command), -v, --version.',
    'Exit status: 0 done; 1 failed (unknown email or session, invalid configuration); 2 usage error; 3 a store cannot be reached (or a running server holds the SQLite file).',
    "Configuration: the server's environment (LATCHKEY_*, DATABASE_URL, LATCHKEY_REDIS_URL, LATCHKEY_DATA_DIR); see docs/CLI.md.",
  ].join('\n');
}

const names = (items: readonly { name: string }[]) =>
  items.map((i) => i.name.split(' ').pop()).join(', ');

async function runLeaf(command: Command, args: string[], env: Env, io: Io): Promise<number> {
  if (args.some((a) => HELP_FLAGS.includes(a))) {
    io.out(commandHelp(command));
    return EXIT.ok;
  }
  return command.run(parseOptions(command, args), io, env);
}

async function dispatch(argv: string[], env: Env, io: Io): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    throw usageError('', `missing command; one of ${names([...LEAVES, ...GROUPS])}`);
  }
  if (HELP_FLAGS.includes(first) || first === 'help') {
    if (first === 'help' && rest.length > 0) return dispatch([...rest, '--help'], env, io);
    io.out(topHelp());
    return EXIT.ok;
  }
  if (first === '-v' || first === '--version') {
    io.out(version());
    return EXIT.ok;
  }
  const leaf = LEAVES.find((c) => c.name === first);
  if (leaf) return runLeaf(leaf, rest, env, io);
  const group = GROUPS.find((g) => g.name === first);
  if (!group) {
    throw usageError(
      '',
      `unknown ${first.startsWith('-') ? 'option' : 'command'} ${JSON.stringify(first)}; commands: ${names([...LEAVES, ...GROUPS])}`,
    );
  }
  const [sub, ...args] = rest;
  if (sub !== undefined && HELP_FLAGS.includes(sub)) {
    io.out(groupHelp(group));
    return EXIT.ok;
  }
  const command = group.commands.find((c) => c.name === `${group.name} ${sub}`);
  if (!command) {
    throw usageError(
      group.name,
      `${sub === undefined ? 'missing command' : `unknown command ${JSON.stringify(sub)}`}; one of ${names(group.commands)}`,
    );
  }
  return runLeaf(command, args, env, io);
}

/**
 * Runs the `latchkey` command line `argv` (without `node` and the script) and returns
 * its exit status. Every failure is one line on stderr (`latchkey: …`); nothing throws.
 */
export async function main(
  argv: readonly string[],
  env: Env = process.env,
  io: Io = processIo,
): Promise<number> {
  try {
    return await dispatch([...argv], env, io);
  } catch (error) {
    const report =
      error instanceof CliError ? error : new CliError(describeError(error), EXIT.failed);
    io.err(`latchkey: ${report.message}`);
    return report.exitCode;
  }
}
