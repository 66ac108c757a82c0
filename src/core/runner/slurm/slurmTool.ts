import { spawn } from 'node:child_process';
import { msg, UserError } from '../../util/errors.ts';

/** Slurm's client commands RVC Studio runs; nothing else goes through here. */
export type SlurmTool = 'sbatch' | 'squeue' | 'scontrol' | 'scancel' | 'sinfo';

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  timeoutMs: number;
  /** Defaults to this process's environment (which carries SLURM_CONF when a cluster sets one). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs one Slurm client command with an argument array (never a shell string) and collects its
 * output. A missing binary and a hung controller become UserErrors that say what to change; a
 * non-zero exit is returned, not thrown, because callers read Slurm's own refusal from stderr.
 */
export function runSlurmTool(tool: SlurmTool, args: readonly string[], options: ToolOptions): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') {
        reject(
          new UserError(
            msg`${tool} is not on PATH: install Slurm's client tools or set rvcStudio.runner.executor to local.`,
            'slurm-missing',
            { cause: error },
          ),
        );
      } else {
        reject(new UserError(msg`Could not run ${tool}: ${error.message}`, 'slurm-failed', { cause: error }));
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new UserError(
            msg`${tool} did not answer within ${Math.round(options.timeoutMs / 1000)} s: is the Slurm controller reachable from here (scontrol ping)?`,
            'slurm-timeout',
          ),
        );
        return;
      }
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

/** The last non-empty line Slurm wrote to stderr, without its "sbatch: error: " prefix. */
export function slurmComplaint(result: ToolResult): string {
  const lines = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const last = lines.at(-1) ?? `exit code ${String(result.code)}`;
  return last.replace(/^[a-z_]+: error: /, '');
}
