import * as fs from 'node:fs';
import { isUserError } from '../util/errors.ts';
import { readExitRecord, tasksDirOf } from './processes.ts';
import { reportInternal, type RunnerContext } from './runnerContext.ts';
import type { SlurmTasks } from './slurm/slurmTasks.ts';
import { isFinal } from '../store/vocabulary.ts';
import { runnerAlive, type Outcome } from './taskLifecycle.ts';
import type { TaskLogTail } from './taskLog.ts';
import type { Task } from './taskSnapshot.ts';

interface ActiveTask {
  task: Task;
  pid: number | null;
  /** A Slurm task's job id: the poller watches it instead of a pid. */
  jobId: string | null;
  tail: TaskLogTail;
  lastReadAt: number;
  pendingRead: NodeJS.Timeout | undefined;
}

/** A chatty step (progress bars) must not turn into a commit per write: at most one read per task per this many ms. */
const READ_INTERVAL_MS = 25;

/**
 * What attach needs of the runner's Slurm wiring (runnerSlurm.ts), named here so the two files do
 * not import each other: that wiring hands SlurmTasks this class's tail and settle.
 */
export interface SlurmWiring {
  side(): Pick<SlurmTasks, 'follow' | 'check'>;
  findSubmitted(task: Task): Promise<void>;
  forget(jobId: string): void;
}

export interface AttachHooks {
  /** The runner's Slurm side, for tasks that run as batch jobs. */
  slurm(): SlurmWiring;
  /** A task settled: another may start now. */
  schedule(): void;
}

/**
 * Attach and tail: the running tasks this runner follows, each with its log tail. The tasks folder
 * is watched, so a log that grows is read (into task_logs and the curves) and an exit record that
 * appears settles its task through the lifecycle; reattach() takes over what a dead runner left.
 */
export class AttachedTasks {
  private readonly ctx: RunnerContext;
  private readonly hooks: AttachHooks;
  private readonly active = new Map<string, ActiveTask>();
  private watcher: fs.FSWatcher | undefined;

  constructor(ctx: RunnerContext, hooks: AttachHooks) {
    this.ctx = ctx;
    this.hooks = hooks;
  }

  has(id: string): boolean {
    return this.active.has(id);
  }

  ids(): string[] {
    return [...this.active.keys()];
  }

  /** Watches the tasks folder: a log write reads that log, an exit record checks its task. */
  watch(): void {
    fs.mkdirSync(tasksDirOf(this.ctx.store), { recursive: true });
    this.watcher = fs.watch(tasksDirOf(this.ctx.store), { persistent: false }, (_event, filename) =>
      this.onTaskFile(filename ? String(filename) : null),
    );
    this.watcher.on('error', () => undefined);
  }

  /** Stops watching and lets go of every task (their launchers record how they end). */
  unwatch(): void {
    this.watcher?.close();
    for (const id of this.ids()) this.detach(id);
  }

  /** Adds the task to the active set (its launcher's pid, or its Slurm job id) and reads its log once. */
  track(task: Task, pid: number | null, jobId: string | null): void {
    this.active.set(task.id, {
      task,
      pid,
      jobId,
      tail: this.ctx.lifecycle.logTail(task),
      lastReadAt: 0,
      pendingRead: undefined,
    });
    this.readLog(task.id);
  }

  attach(task: Task, pid: number | null): void {
    this.track(task, pid, null);
    if (readExitRecord(this.ctx.store, task.id)) this.check(task.id);
  }

  /** Points the active entry at a resubmitted job; false when the task is no longer active. */
  retarget(task: Task, jobId: string): boolean {
    const entry = this.active.get(task.id);
    if (!entry) return false;
    entry.jobId = jobId;
    entry.task = task;
    return true;
  }

  private onTaskFile(filename: string | null): void {
    if (!filename) return;
    const id = filename.slice(0, 36);
    if (!this.active.has(id)) return;
    if (filename.endsWith('.log')) this.readLogSoon(id);
    else if (filename.endsWith('.exit.json')) this.check(id);
  }

  /** Reads at once when the log was quiet, else once the interval since the last read has passed. */
  private readLogSoon(id: string): void {
    const entry = this.active.get(id);
    if (!entry || entry.pendingRead) return;
    const wait = entry.lastReadAt + READ_INTERVAL_MS - Date.now();
    if (wait <= 0) this.readLog(id);
    else {
      entry.pendingRead = setTimeout(() => {
        entry.pendingRead = undefined;
        this.readLog(id);
      }, wait);
    }
  }

  /** Tail: what the task's log gained since the last read, into task_logs (and, for training, the curves). */
  readLog(id: string): void {
    const entry = this.active.get(id);
    if (!entry || !this.ctx.store.isOpen) return;
    entry.lastReadAt = Date.now();
    try {
      entry.tail.read();
    } catch (error) {
      reportInternal(this.ctx.store, `reading the log of ${id}`, error);
    }
  }

  /** Assesses an attached task and settles it once it has exited or is gone. */
  check(id: string): void {
    let task: Task;
    try {
      task = this.ctx.tasks.get(id);
    } catch (error) {
      if (isUserError(error))
        this.detach(id); // the row was purged
      else reportInternal(this.ctx.store, `checking task ${id}`, error);
      return;
    }
    if (isFinal(task.status)) {
      this.detach(id);
      return;
    }
    if (task.slurm !== null) {
      // An exit record without a signal decides at once; one with a signal (Slurm's SIGTERM at a
      // time limit, a pre-emption, the OOM killer) waits for Slurm to say why.
      const exit = readExitRecord(this.ctx.store, id);
      if (exit && exit.signal === null && !task.cancelRequested) this.settle(id, { state: 'exited', exit });
      else if (exit) void this.hooks.slurm().side().check(id);
      else this.readLog(id);
      return;
    }
    const assessed = this.ctx.lifecycle.assess(task, this.ctx.runnerId);
    if (assessed.state === 'alive') {
      this.readLog(id);
      return;
    }
    if (assessed.state === 'exited') this.ctx.options.faultPoint?.('exited', task);
    this.settle(id, assessed);
  }

  /** Settle: through the lifecycle, with this runner's log tail so no line is read twice. */
  settle(id: string, outcome: Outcome): void {
    const entry = this.active.get(id);
    this.detach(id);
    try {
      const task = this.ctx.tasks.get(id);
      this.ctx.lifecycle.settle(task, outcome, entry?.tail);
    } catch (error) {
      reportInternal(this.ctx.store, `settling task ${id}`, error);
    }
    this.hooks.schedule();
  }

  detach(id: string): void {
    const entry = this.active.get(id);
    if (entry?.pendingRead) clearTimeout(entry.pendingRead);
    if (entry?.jobId) this.hooks.slurm().forget(entry.jobId);
    this.active.delete(id);
  }

  /** Start-up and sweep: running tasks whose runner is gone are adopted, then re-attached if alive, settled if not. */
  reattach(): void {
    const { lifecycle, runnerId } = this.ctx;
    for (const task of this.ctx.tasks.running()) {
      if (this.active.has(task.id) || this.ctx.launching.has(task.id)) continue;
      if (task.claimedBy !== runnerId && runnerAlive(task.claimedBy)) continue;
      if (!lifecycle.adopt(task, runnerId)) continue;
      if (task.slurm !== null) {
        // Re-attached by job id: the poller follows it from here; ask once now (it may have ended).
        this.hooks
          .slurm()
          .side()
          .follow({ ...task, claimedBy: runnerId });
        void this.hooks.slurm().side().check(task.id);
        continue;
      }
      if (task.executor === 'slurm' && task.snapshot.plan) {
        // Planned for Slurm but no job id: its runner may have died between sbatch and recording it.
        void this.hooks.slurm().findSubmitted({ ...task, claimedBy: runnerId });
        continue;
      }
      const assessed = lifecycle.assess({ ...task, claimedBy: runnerId }, runnerId);
      if (assessed.state === 'foreign') continue;
      if (assessed.state === 'alive') this.attach(task, assessed.pid);
      else this.settle(task.id, assessed);
    }
  }
}
