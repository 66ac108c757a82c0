import type { ParseArgsOptionsConfig } from 'node:util';
import type { Settings } from '../core/settings.ts';
import type { Store } from '../core/store/store.ts';

/** What every command gets: the workspace, the output mode, and lazily opened core objects. */
export interface CliContext {
  workspaceDir: string;
  json: boolean;
  openStore(): Store;
  settings(): Settings;
  /** Progress and warnings for people; never part of --json output. */
  info(line: string): void;
  warn(line: string): void;
  /** Aborted on SIGINT/SIGTERM so long-running commands (run, task log --follow) can stop cleanly. */
  signal: AbortSignal;
}

export interface CliArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

/** A command's answer: `json` is printed with --json, `text` otherwise. */
export interface CliResult {
  json: unknown;
  text: string | string[];
  /** Non-zero when the command ran but what it waited for failed (e.g. `run` with a failed task). */
  exitCode?: number;
}

export interface CliCommand {
  /** The words that select the command, e.g. ["training", "create"]. */
  path: string[];
  /** Arguments after the command words, for help: "NAME --dataset DIR [--sr 32k|40k|48k]". */
  usage: string;
  summary: string;
  options?: ParseArgsOptionsConfig;
  /** How many positionals it takes, for a clear error instead of a silently ignored word. */
  positionals?: { min: number; max: number };
  run(ctx: CliContext, args: CliArgs): Promise<CliResult> | CliResult;
}
