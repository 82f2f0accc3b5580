import { parseArgs } from 'node:util';
import { usageError } from './errors.js';
import type { Env, Io } from './io.js';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Placeholder of a string option's value in the help, e.g. `EMAIL`. */
  value?: string;
  description: string;
}

type Values<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: O[K]['type'] extends 'string' ? string : boolean;
};

/** One leaf command, e.g. `sessions revoke`: its help and what it runs. */
export interface Command<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  /** e.g. `sessions revoke`. */
  name: string;
  /** One line, shown in the group's help. */
  summary: string;
  /** The synopsis after `latchkey <name>`, e.g. `--email EMAIL [--json]`. */
  synopsis: string;
  /** Paragraphs of the command's own help. */
  details: string[];
  options: O;
  /** Whether the command reads the server's configuration (for the help's last line). */
  usesConfig: boolean;
  run(values: Values<O>, io: Io, env: Env): Promise<number>;
}

/** A group of commands, e.g. `sessions`. */
export interface Group {
  name: string;
  summary: string;
  commands: Command[];
}

export const HELP_FLAGS = ['-h', '--help'];

/** Checks `args` against the command's options: one usage line naming the fix otherwise. */
export function parseOptions<O extends Record<string, OptionSpec>>(
  command: Command<O>,
  args: string[],
): Values<O> {
  const usage = command.name;
  const known = Object.keys(command.options)
    .map((name) => `--${name}`)
    .join(', ');
  try {
    const { values } = parseArgs({
      args: joinDashValues(args, command.options),
      options: Object.fromEntries(
        Object.entries(command.options).map(([name, spec]) => [name, { type: spec.type }]),
      ),
      strict: true,
      allowPositionals: false,
    });
    return values as Values<O>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const quoted = /'([^']+)'/.exec((error as Error).message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw usageError(usage, `unknown option ${quoted}; it takes ${known}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = quoted.split(' ')[0] ?? quoted;
      const spec = command.options[name.replace(/^--/, '')];
      throw usageError(
        usage,
        spec?.type === 'string'
          ? `${name} needs a value (${name} ${spec.value ?? 'VALUE'})`
          : `${name} takes no value`,
      );
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw usageError(usage, `unexpected argument ${JSON.stringify(quoted)}; it takes ${known}`);
    }
    throw error;
  }
}

/**
 * `--id -Xb3…` as `--id=-Xb3…`: a session id is base64url and may start with `-`,
 * which parseArgs would otherwise refuse as an ambiguous value. Only when what
 * follows a string option is not itself one of the command's options.
 */
function joinDashValues(args: string[], options: Record<string, OptionSpec>): string[] {
  const flags = new Set([...HELP_FLAGS, ...Object.keys(options).map((name) => `--${name}`)]);
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    const spec = arg.startsWith('--') ? options[arg.slice(2)] : undefined;
    if (spec?.type === 'string' && next?.startsWith('-') && !flags.has(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

const CONFIG_LINE =
  "Configuration: the server's environment (LATCHKEY_*, DATABASE_URL, LATCHKEY_REDIS_URL, LATCHKEY_DATA_DIR); see docs/CLI.md.";

/** The help of one command. */
export function commandHelp(command: Command): string {
  const width = Math.max(
    ...Object.entries(command.options).map(
      ([n, s]) => `--${n}${s.value ? ` ${s.value}` : ''}`.length,
    ),
    '-h, --help'.length,
  );
  const line = (left: string, right: string) => `  ${left.padEnd(width)}  ${right}`;
  return [
    `Usage: latchkey ${command.name}${command.synopsis ? ` ${command.synopsis}` : ''}`,
    '',
    ...command.details.flatMap((paragraph) => [paragraph, '']),
    'Options:',
    ...Object.entries(command.options).map(([name, spec]) =>
      line(`--${name}${spec.value ? ` ${spec.value}` : ''}`, spec.description),
    ),
    line('-h, --help', 'show this help'),
    ...(command.usesConfig ? ['', CONFIG_LINE] : []),
  ].join('\n');
}

/** The help of a group: its commands, one line each. */
export function groupHelp(group: Group): string {
  const width = Math.max(...group.commands.map((c) => c.name.length));
  return [
    `Usage: latchkey ${group.name} <command> [options]`,
    '',
    group.summary,
    '',
    'Commands:',
    ...group.commands.map((c) => `  latchkey ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Run latchkey ${group.name} <command> --help for a command's options.`,
  ].join('\n');
}

/** A command with typed option values, as the untyped table holds it. */
export function defineCommand<O extends Record<string, OptionSpec>>(command: Command<O>): Command {
  return command;
}
