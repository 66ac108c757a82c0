/**
 * The task launcher: a tiny detached Node process that leads the step's process group, runs the
 * step's command(s) with argument arrays, sends their stdout+stderr to the task's log file and, when
 * they end, writes <taskId>.exit.json. It outlives the runner that started it (the extension host or
 * a CLI), so a task's exit status is never lost when VS Code closes or crashes.
 *
 * Usage: node launcherWorker.js <spec.json>. It imports nothing from the product on purpose: it must
 * start fast and keep running whatever happens to the rest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

export interface LaunchProcess {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export interface LaunchSpec {
  taskId: string;
  cwd: string;
  /** Run in parallel (RVC runs one extraction process per GPU); the task ends when all have ended. */
  processes: LaunchProcess[];
  logPath: string;
  exitPath: string;
  startedPath: string;
}

export interface ExitRecord {
  /** 0 when every process exited 0; else the first non-zero code; null when one died of a signal. */
  code: number | null;
  signal: string | null;
  finishedAt: number;
  /** Set when a process could not be started at all (e.g. the Python path does not exist). */
  error?: string;
  processes: { pid: number | null; code: number | null; signal: string | null }[];
}

export interface StartedRecord {
  launcherPid: number;
  pids: (number | null)[];
  startedAt: number;
}

/**
 * An argument the launcher replaces by the GPUs Slurm granted the job, in RVC's `-g` form: the
 * CUDA_VISIBLE_DEVICES Slurm set on the compute node ("2,3" → "2-3"), else the fallback after `|`.
 * Only a Slurm job's plan holds it; the GPUs are known only once the job runs on its node.
 */
export const SLURM_GPUS_ARG = '{rvc-studio:slurm-gpus}';

export function slurmGpusArg(fallback: string): string {
  return `${SLURM_GPUS_ARG.slice(0, -1)}|${fallback}}`;
}

/** RVC's -g list from CUDA_VISIBLE_DEVICES (indexes only; UUIDs cannot be written in -g's dashed form). */
export function gpusFromVisibleDevices(visible: string | undefined, fallback: string): string {
  const ids = (visible ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  return ids.length > 0 && ids.every((id) => /^\d+$/.test(id)) ? ids.join('-') : fallback;
}

function expandArg(arg: string, env: NodeJS.ProcessEnv): string {
  if (!arg.startsWith(SLURM_GPUS_ARG.slice(0, -1))) return arg;
  const fallback = /\|([0-9-]*)\}$/.exec(arg)?.[1] ?? '0';
  return gpusFromVisibleDevices(env.CUDA_VISIBLE_DEVICES, fallback || '0');
}

function writeAtomically(file: string, value: unknown): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(value) + '\n');
  fs.renameSync(temporary, file);
}

function main(specPath: string): void {
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8')) as LaunchSpec;
  const logFd = fs.openSync(spec.logPath, 'a');
  const baseEnv: NodeJS.ProcessEnv = { ...process.env };
  // The runner sets it so VS Code's own binary runs us as Node; RVC's Python must not inherit it.
  delete baseEnv.ELECTRON_RUN_AS_NODE;

  const results: ExitRecord['processes'] = spec.processes.map(() => ({ pid: null, code: null, signal: null }));
  let pending = spec.processes.length;
  let startError: string | undefined;
  let stopSignal: NodeJS.Signals | undefined;
  const children: ChildProcess[] = [];

  const finish = (): void => {
    const failed = results.find((r) => r.signal !== null || r.code !== 0);
    const record: ExitRecord = {
      code: failed ? failed.code : 0,
      signal: failed ? failed.signal : null,
      finishedAt: Date.now(),
      processes: results,
    };
    if (startError !== undefined) record.error = startError;
    if (stopSignal && record.signal === null && record.code !== 0) record.signal = stopSignal;
    fs.closeSync(logFd);
    writeAtomically(spec.exitPath, record);
    process.exit(0);
  };

  // A signal aimed at the whole group reaches us too: stay alive to record how the step ended, and
  // pass a signal sent to us alone on to the children.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (signal !== 'SIGHUP') stopSignal = signal;
      for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
      }
    });
  }

  for (const [index, proc] of spec.processes.entries()) {
    const args = proc.args.map((arg) => expandArg(arg, baseEnv));
    fs.writeSync(logFd, `[rvc-studio] $ ${JSON.stringify([proc.command, ...args])}\n`);
    const child = spawn(proc.command, args, {
      cwd: spec.cwd,
      env: { ...baseEnv, ...proc.env },
      stdio: ['ignore', logFd, logFd],
      windowsHide: true,
    });
    children.push(child);
    results[index]!.pid = child.pid ?? null;
    let settled = false;
    const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      results[index]!.code = code;
      results[index]!.signal = signal;
      if (--pending === 0) finish();
    };
    child.on('error', (error) => {
      startError ??= `${proc.command}: ${error.message}`;
      fs.writeSync(logFd, `[rvc-studio] could not start ${proc.command}: ${error.message}\n`);
      settle(127, null);
    });
    child.on('exit', settle);
  }
  writeAtomically(spec.startedPath, {
    launcherPid: process.pid,
    pids: results.map((r) => r.pid),
    startedAt: Date.now(),
  } satisfies StartedRecord);
  if (spec.processes.length === 0) finish();
}

const specArg = process.argv[2];
if (specArg && /launcherWorker\.(ts|js|cjs)$/.test(process.argv[1] ?? '')) main(specArg);
