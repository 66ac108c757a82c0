import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../store/store.ts';
import { msg, UserError } from '../util/errors.ts';
import { packageRoot } from '../util/packageRoot.ts';
import { resolveInside } from '../util/paths.ts';
import type { ExitRecord, LaunchProcess, LaunchSpec, StartedRecord } from './launcherWorker.ts';

export type { ExitRecord, LaunchProcess, StartedRecord };

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface TaskFiles {
  dir: string;
  spec: string;
  log: string;
  exit: string;
  started: string;
}

/** <workspace>/.rvc-studio/tasks: one log, spec, started and exit file per task. */
export function tasksDirOf(store: Store): string {
  return resolveInside(store.storeDir, 'tasks');
}

export function taskFiles(store: Store, taskId: string): TaskFiles {
  if (!TASK_ID.test(taskId)) throw new Error(`not a task id: ${taskId}`);
  const dir = tasksDirOf(store);
  return {
    dir,
    spec: resolveInside(dir, `${taskId}.spec.json`),
    log: resolveInside(dir, `${taskId}.log`),
    exit: resolveInside(dir, `${taskId}.exit.json`),
    started: resolveInside(dir, `${taskId}.started.json`),
  };
}

/**
 * The launcher script: the bundled dist/workers/launcherWorker.js when we run from a bundle, the
 * TypeScript source (run by Node's type stripping) when we run from src/ under tests or the CLI.
 */
export function launcherScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return path.join(path.dirname(here), 'launcherWorker.ts');
  return path.join(packageRoot(), 'dist', 'workers', 'launcherWorker.js');
}

/**
 * Writes the launcher's spec for a task (and clears the records of an earlier run, plus `alsoStale`),
 * for a local launch and for a batch job that runs the same launcher elsewhere.
 */
export function writeLaunchSpec(
  files: TaskFiles,
  taskId: string,
  plan: { cwd: string; processes: LaunchProcess[] },
  alsoStale: string[] = [],
): LaunchSpec {
  fs.mkdirSync(files.dir, { recursive: true });
  for (const stale of [files.exit, files.started, ...alsoStale]) fs.rmSync(stale, { force: true });
  const spec: LaunchSpec = {
    taskId,
    cwd: plan.cwd,
    processes: plan.processes,
    logPath: files.log,
    exitPath: files.exit,
    startedPath: files.started,
  };
  fs.writeFileSync(files.spec, JSON.stringify(spec, null, 2) + '\n');
  return spec;
}

/**
 * Starts the step's processes under a detached launcher and returns the launcher's pid, which is
 * also the process group id: signalling -pid reaches the step and everything it spawned.
 */
export function launch(store: Store, taskId: string, plan: { cwd: string; processes: LaunchProcess[] }): number {
  const files = taskFiles(store, taskId);
  writeLaunchSpec(files, taskId, plan);
  const child = spawn(process.execPath, [launcherScript(), files.spec], {
    detached: true,
    stdio: 'ignore',
    cwd: plan.cwd,
    // Inside VS Code process.execPath is the editor's binary; this makes it behave as plain Node.
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    windowsHide: true,
  });
  if (child.pid === undefined) throw new UserError(msg`Could not start the task launcher (${process.execPath}).`, 'launch-failed');
  child.on('error', () => undefined);
  child.unref();
  return child.pid;
}

export function readJsonFile<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    // Absent, or not whole JSON (a writer killed mid-write): callers read both as "no record".
    return undefined;
  }
}

export function readExitRecord(store: Store, taskId: string): ExitRecord | undefined {
  return readJsonFile<ExitRecord>(taskFiles(store, taskId).exit);
}

export function readStartedRecord(store: Store, taskId: string): StartedRecord | undefined {
  return readJsonFile<StartedRecord>(taskFiles(store, taskId).started);
}

/** Is a process with this pid alive? EPERM means it exists but belongs to someone else. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The launcher of a spec file, found by its command line (Linux): a runner killed between spawning
 * the launcher and recording its pid leaves a launcher nobody knows the pid of.
 */
export function findLauncher(specPath: string): number | null {
  if (process.platform !== 'linux' || !fs.existsSync(specPath)) return null;
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return null; // no readable /proc (a hardened container): the launcher cannot be found this way
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    if (cmdline.split('\0').includes(specPath) && /launcherWorker\.(ts|js|cjs)/.test(cmdline)) return Number(entry);
  }
  return null;
}

/**
 * Is this task's launcher still running? A bare pid check could be fooled by the pid being reused
 * after a reboot, so on Linux the process's command line must also name the task.
 */
export function launcherAlive(pid: number | null, taskId: string): boolean {
  if (pid === null || pid <= 0 || !processAlive(pid)) return false;
  if (process.platform !== 'linux') return true;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(taskId)) return false;
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie has finished; its parent just has not reaped it
  } catch {
    return false; // the process ended (its /proc entry went away) while we looked
  }
}

/** Does any process of the group led by pid remain (the launcher may be gone, a grandchild not)? */
export function groupAlive(pgid: number): boolean {
  if (process.platform === 'win32') return processAlive(pgid);
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (process.platform === 'win32') {
    // No process groups on Windows: taskkill /T walks the tree instead.
    spawnSync('taskkill', ['/pid', String(pgid), '/T', ...(signal === 'SIGKILL' ? ['/F'] : [])], { windowsHide: true });
    return;
  }
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Cancel: SIGTERM to the whole group, then SIGKILL to whatever is left after the grace period.
 * Resolves when no process of the group remains (or, for a group that ignores SIGKILL, never
 * sooner than the grace period plus one second).
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let wait = 10;
  while (groupAlive(pgid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 200);
  }
  if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  const hardDeadline = Date.now() + 1000;
  while (groupAlive(pgid) && Date.now() < hardDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
}
