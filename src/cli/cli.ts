import * as path from 'node:path';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { readWorkspaceSettings, type Settings } from '../core/settings.ts';
import { Store } from '../core/store/store.ts';
import { errorMessage, isUserError, msg, UserError } from '../core/util/errors.ts';
import type { CliCommand, CliContext, CliResult } from './command.ts';
import { COMMANDS } from './commands/index.ts';
import { toJsonDocument } from './jsonContract.ts';

const GLOBAL_OPTIONS: ParseArgsOptionsConfig = {
  workspace: { type: 'string', short: 'w' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** The command words: leading arguments that are not options (and not the value of --workspace). */
function commandWords(argv: string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--workspace' || arg === '-w') i++;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  return words;
}

function findCommand(words: string[]): CliCommand | undefined {
  let best: CliCommand | undefined;
  for (const command of COMMANDS) {
    const matches = command.path.every((word, i) => words[i] === word);
    if (matches && (!best || command.path.length > best.path.length)) best = command;
  }
  return best;
}

export function helpText(): string {
  const lines = [
    "rvc-studio — RVC Studio's core without VS Code",
    '',
    'usage: rvc-studio [--workspace DIR] [--json] COMMAND …',
    '',
    'Global options:',
    '  --workspace DIR   the workspace folder (default: the current folder)',
    '  --json            print one JSON document on stdout',
    '',
    'Commands:',
  ];
  // Usages vary from one word to a whole line (infer), so each summary goes on its own line.
  for (const command of COMMANDS) {
    lines.push(`  ${[...command.path, command.usage].join(' ').trimEnd()}`, `      ${command.summary}`);
  }
  lines.push('', 'Exit codes: 0 ok, 1 user error, 2 internal error.');
  return lines.join('\n') + '\n';
}

function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/** A command found and its arguments checked against its options and positional counts. */
interface Invocation {
  command: CliCommand;
  values: CliContextValues;
  positionals: string[];
}

function parseInvocation(argv: string[], words: string[]): Invocation {
  const command = findCommand(words);
  if (!command) throw new UserError(msg`Unknown command "${words.join(' ')}". Run "rvc-studio --help" for the list.`, 'usage');
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(msg`${errorMessage(error)}. Usage: rvc-studio ${command.path.join(' ')} ${command.usage}`, 'usage');
  }
  const positionals = parsed.positionals.slice(command.path.length);
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  if (positionals.length < min || positionals.length > max) {
    throw new UserError(msg`Usage: rvc-studio ${command.path.join(' ')} ${command.usage}`, 'usage');
  }
  return { command, values: parsed.values as CliContextValues, positionals };
}

/** The store opened on first use, kept so that a failure can be explained by it and it is closed at the end. */
interface OpenedStore {
  store?: Store;
}

function makeContext(values: CliContextValues, io: CliIo, opened: OpenedStore, signal: AbortSignal): CliContext {
  const json = values.json === true;
  const workspaceDir = path.resolve(typeof values.workspace === 'string' ? values.workspace : process.cwd());
  let settings: Settings | undefined;
  const ctx: CliContext = {
    workspaceDir,
    json,
    openStore: () => (opened.store ??= Store.open(workspaceDir)),
    settings: () => (settings ??= readWorkspaceSettings(workspaceDir, (line) => ctx.warn(line))),
    info: (line) => {
      if (!json) io.stderr(line + '\n');
    },
    warn: (line) => io.stderr(`warning: ${line}\n`),
    signal,
  };
  return ctx;
}

function printResult(io: CliIo, json: boolean, result: CliResult): void {
  if (json) io.stdout(JSON.stringify(toJsonDocument(result.json), jsonReplacer, 2) + '\n');
  else {
    const text = Array.isArray(result.text) ? result.text.join('\n') : result.text;
    if (text) io.stdout(text.endsWith('\n') ? text : text + '\n');
  }
}

/** One line on stderr (and the error document with --json); 1 for a user error, 2 for anything else. */
function reportFailure(io: CliIo, json: boolean, caught: unknown, store: Store | undefined): number {
  // SQLite's busy, full-disk and I/O codes become the store's one-line explanations.
  const error = store?.isOpen ? store.explain(caught) : caught;
  const user = isUserError(error);
  const message = user ? error.message : `internal error: ${errorMessage(error)}`;
  io.stderr(message.split('\n')[0] + '\n');
  if (!user && process.env.RVC_STUDIO_DEBUG) io.stderr(String((error as Error).stack) + '\n');
  if (json) {
    io.stdout(JSON.stringify(toJsonDocument({ error: { code: user ? error.code : 'internal', message } })) + '\n');
  }
  return user ? 1 : 2;
}

/** Runs one CLI invocation and returns its exit code; never throws. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  // Until the arguments parse, a failure still answers in JSON when --json is anywhere in them.
  let json = argv.includes('--json');
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const opened: OpenedStore = {};
  try {
    const words = commandWords(argv);
    if (words.length === 0 || wantsHelp(argv)) {
      io.stdout(helpText());
      // Bare `rvc-studio` is a usage mistake; asking for help is not.
      return words.length === 0 && !wantsHelp(argv) ? 1 : 0;
    }
    const { command, values, positionals } = parseInvocation(argv, words);
    json = values.json === true;
    const ctx = makeContext(values, io, opened, controller.signal);
    const result = await command.run(ctx, { positionals, values });
    printResult(io, json, result);
    return result.exitCode ?? 0;
  } catch (caught) {
    return reportFailure(io, json, caught, opened.store);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    opened.store?.close();
  }
}

type CliContextValues = Record<string, string | boolean | string[] | undefined>;

/** JSON has no NaN or Infinity; the CLI contract spells them as strings. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  return value;
}
