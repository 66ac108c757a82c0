import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Unsubscribe } from '../events.ts';
import type { Settings } from '../settings.ts';
import type { Store } from '../store/store.ts';
import { TrainingRepository, trainingLogsDir, type Training } from '../store/trainings.ts';
import { errorMessage, isUserError, UserError } from '../util/errors.ts';
import { chooseDevice, probeDeviceAsync, runPythonAsync, type DeviceChoice } from './device.ts';
import type { StepContext } from './engine.ts';
import { resolveParams, type RunParams } from './params.ts';
import { launch, readExitRecord, readStartedRecord, tasksDirOf, terminateGroup } from './processes.ts';
import { pythonOf, rvcRootOf } from './rvcEngine.ts';
import { isFinal, remainingSteps, unmetDependency, usesGpu, type StepType } from './steps.ts';
import {
  ENGINES,
  registerLiveRunner,
  runnerAlive,
  TaskLifecycle,
  unregisterLiveRunner,
  type FaultPoint,
  type Outcome,
} from './taskLifecycle.ts';
import { TaskLogTail } from './taskLog.ts';
import { SlurmTasks } from './slurm/slurmTasks.ts';
import { TaskRepository, type Task, type TaskLogEntry, type TaskSnapshot } from '../store/taskRepository.ts';

export interface RunnerOptions {
  /** Read on every use, so a changed setting applies to the next task. */
  settings: () => Settings;
  /** Claim only these tasks (the `run` command works on its own); add ids as they are enqueued. */
  only?: Set<string>;
  /** How often to check that launchers are still alive (a launcher killed with -9 writes no exit file). */
  sweepMs?: number;
  /** SIGTERM, then SIGKILL after this long. */
  cancelGraceMs?: number;
  /** Called at each transition of a task this runner moves; the fault-injection tests kill the process there. */
  faultPoint?: (point: FaultPoint, task: Task) => void;
}

export interface EnqueueOptions {
  engine?: 'rvc' | 'command';
  /** WebUI parameter overrides: total_epoch, batch_size, save_every_epoch, … */
  set?: Record<string, string>;
}

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

export { ENGINES };

/**
 * The pipeline runner, in four parts: claim (enqueued training_tasks rows, claimed atomically: several
 * runners in several processes share one queue), launch (each under a detached launcher), tail (its
 * log into progress and task_logs rows, through TaskLogTail) and settle (through TaskLifecycle, which
 * judges the outcome by the files RVC wrote and keeps the chain and the training in step). start()
 * re-attaches to tasks left running by a runner that died.
 */
export class Runner {
  readonly runnerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly store: Store;
  readonly tasks: TaskRepository;
  readonly trainings: TrainingRepository;
  readonly lifecycle: TaskLifecycle;
  private readonly options: Required<Omit<RunnerOptions, 'only' | 'faultPoint'>> & Pick<RunnerOptions, 'only' | 'faultPoint'>;
  private readonly active = new Map<string, ActiveTask>();
  /** Claimed, not yet launched (the device probe is awaited in between): reattach must leave them alone. */
  private readonly launching = new Set<string>();
  private readonly deviceCache = new Map<string, DeviceChoice>();
  private readonly disposables: Unsubscribe[] = [];
  private watcher: fs.FSWatcher | undefined;
  private slurm: SlurmTasks | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private running = false;

  constructor(store: Store, options: RunnerOptions) {
    this.store = store;
    this.tasks = new TaskRepository(store);
    this.trainings = new TrainingRepository(store);
    this.options = { sweepMs: 2000, cancelGraceMs: 5000, ...options };
    const faultPoint = options.faultPoint;
    this.lifecycle = new TaskLifecycle(store, { settings: () => this.options.settings(), ...(faultPoint ? { faultPoint } : {}) });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Queues STEP (or every remaining step, as one chain) for the training NAME. */
  enqueue(trainingName: string, step: StepType | 'all', options: EnqueueOptions = {}): Task[] {
    const training = this.trainings.require(trainingName);
    const settings = this.options.settings();
    const engine = options.engine ?? settings['runner.engine'];
    if (engine !== 'rvc' && engine !== 'command') throw new UserError(`Unknown engine "${String(engine)}"; use rvc or command.`, 'usage');
    const params = resolveParams(settings, training, options.set ?? {});
    const steps = step === 'all' ? remainingSteps(training) : [step];
    const pending = this.tasks.list({ trainingId: training.id, limit: 1000 }).filter((t) => !isFinal(t.status));
    for (const s of steps) {
      const clash = pending.find((t) => t.stepType === s);
      if (clash) {
        throw new UserError(
          `${s} is already ${clash.status} for "${training.name}" (task ${clash.id.slice(0, 8)}); wait for it or cancel it first.`,
          'already-queued',
        );
      }
    }
    const chainId = step === 'all' ? randomUUID() : null;
    const logsDir = trainingLogsDir(this.store, training);
    const onGpu = settings['runner.device'] !== 'cpu' && settings['runner.device'] !== 'mps';
    const created = this.tasks.insert(
      steps.map((s, i) => ({
        trainingId: training.id,
        stepType: s,
        snapshot: {
          engine,
          params: params as unknown as TaskSnapshot['params'],
          training: { name: training.name, logsDir },
          executor: settings['runner.executor'] === 'slurm' ? 'slurm' : 'local',
        },
        gpuId: onGpu && usesGpu(s, params.f0_method) ? gpuHeld(s, params) : null,
        chainId,
        chainSeq: chainId ? i : null,
      })),
    );
    if (this.options.only) for (const task of created) this.options.only.add(task.id);
    this.schedule();
    return created;
  }

  /** A new task with the failed or cancelled task's snapshot (same parameters, same command). */
  retry(idOrPrefix: string): Task {
    const old = this.tasks.resolve(idOrPrefix);
    if (old.status !== 'failed' && old.status !== 'cancelled') {
      throw new UserError(`Task ${old.id.slice(0, 8)} is ${old.status}; only failed or cancelled tasks can be retried.`, 'not-retryable');
    }
    const pending = this.tasks
      .list({ trainingId: old.trainingId, limit: 1000 })
      .find((t) => !isFinal(t.status) && t.stepType === old.stepType);
    if (pending) throw new UserError(`${old.stepType} is already ${pending.status} (task ${pending.id.slice(0, 8)}).`, 'already-queued');
    const [task] = this.tasks.insert([
      { trainingId: old.trainingId, stepType: old.stepType, snapshot: old.snapshot, gpuId: old.gpuId, retryOf: old.id },
    ]);
    if (this.options.only) this.options.only.add(task!.id);
    this.schedule();
    return task!;
  }

  /**
   * Cancels a queued task at once; a running one gets SIGTERM to its whole process group, SIGKILL
   * after the grace period, and is recorded as cancelled once nothing of it is left.
   */
  async cancel(idOrPrefix: string): Promise<Task> {
    const task = this.tasks.resolve(idOrPrefix);
    if (isFinal(task.status)) throw new UserError(`Task ${task.id.slice(0, 8)} has already ended (${task.status}).`, 'not-running');
    this.tasks.requestCancel(task.id);
    if (task.status === 'queued' && this.lifecycle.cancelQueued(task)) return this.tasks.get(task.id);
    const current = this.tasks.get(task.id);
    if (current.snapshot.slurm && current.slurm !== null) {
      // scancel, and wait until Slurm says the job ended (nothing of it runs on the node any more).
      await this.slurmSide().executor.cancel(current.snapshot.slurm);
      this.settleTask(current.id, { state: 'cancelled' });
      return this.tasks.get(task.id);
    }
    const pid = current.pid ?? readStartedRecord(this.store, task.id)?.launcherPid ?? null;
    if (pid !== null) await terminateGroup(pid, this.options.cancelGraceMs);
    // The runner that owns the task (another window, a worker) records the end itself, with the
    // last log lines; step in only if it does not within a few seconds.
    if (current.claimedBy !== this.runnerId && runnerAlive(current.claimedBy)) {
      const deadline = Date.now() + 3000;
      while (!isFinal(this.tasks.get(task.id).status) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const after = this.tasks.get(task.id);
    if (!isFinal(after.status)) {
      const assessed = this.lifecycle.assess(after, this.runnerId);
      // Still starting (claimed, launcher not yet up): the launching runner sees the request and stops.
      const starting = this.launching.has(task.id) || (assessed.state === 'alive' && assessed.pid === null);
      if (!starting) this.settleTask(after.id, { state: 'cancelled' });
    }
    return this.tasks.get(task.id);
  }

  /** Re-attaches to running tasks, then claims and launches queued ones as they become eligible. */
  start(): void {
    if (this.running) return;
    this.running = true;
    registerLiveRunner(this.runnerId);
    fs.mkdirSync(tasksDirOf(this.store), { recursive: true });
    this.watcher = fs.watch(tasksDirOf(this.store), { persistent: false }, (_event, filename) =>
      this.onTaskFile(filename ? String(filename) : null),
    );
    this.watcher.on('error', () => undefined);
    this.disposables.push(this.store.events.on('taskChanged', () => this.schedule()));
    this.disposables.push(this.store.events.on('externalChange', () => this.schedule()));
    this.disposables.push(this.store.watchExternalChanges());
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepMs);
    this.reattach();
    this.schedule();
  }

  /** Stops claiming and watching. Running steps keep running; their launchers record how they end. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    unregisterLiveRunner(this.runnerId);
    this.watcher?.close();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
    for (const id of [...this.active.keys()]) this.detach(id);
    this.slurm?.dispose();
  }

  /** Resolves with the tasks once every one of them has ended. */
  waitFor(ids: string[], signal?: AbortSignal): Promise<Task[]> {
    return new Promise((resolve, reject) => {
      const subscriptions: Unsubscribe[] = [];
      const timers: NodeJS.Timeout[] = [];
      const done = (): void => {
        for (const s of subscriptions) s.dispose();
        for (const t of timers) clearInterval(t);
      };
      const check = (): void => {
        if (!this.store.isOpen) return;
        const tasks = ids.map((id) => this.tasks.get(id));
        if (tasks.every((t) => isFinal(t.status))) {
          done();
          resolve(tasks);
        }
      };
      const onAbort = (): void => {
        done();
        reject(new UserError('Stopped waiting; the tasks go on in the background ("rvc-studio task list" shows them).', 'interrupted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      subscriptions.push(this.store.events.on('taskChanged', check));
      subscriptions.push(this.store.events.on('externalChange', check));
      // Another process may finish the tasks; its commits arrive through externalChange, and this
      // slow check covers a store nobody is watching.
      timers.push(setInterval(check, 1000));
      check();
    });
  }

  /** Claims and launches whatever may start now; coalesced so a burst of events runs it once. */
  schedule(): void {
    if (!this.running || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.running || !this.store.isOpen) return;
      try {
        const settings = this.options.settings();
        const cpuConcurrency = Math.max(1, settings['queue.cpuConcurrency']);
        for (;;) {
          const claimed = this.lifecycle.claim(
            this.runnerId,
            this.options.only ? { cpuConcurrency, only: this.options.only } : { cpuConcurrency },
          );
          if (!claimed) break;
          void this.launchClaimed(claimed);
        }
      } catch (error) {
        this.reportInternal('scheduling', error);
      }
    });
  }

  private reportInternal(what: string, error: unknown): void {
    try {
      this.store.log('ERROR', 'trainer', `runner ${what}: ${errorMessage(error)}`);
    } catch {
      // the store itself is failing; nothing better to do from a timer
    }
  }

  private context(task: Task, training: Training): StepContext {
    const settings = this.options.settings();
    return {
      ...this.lifecycle.context(task, settings),
      training,
      executor: task.executor,
      device: () => this.deviceFor(settings, training),
    };
  }

  private deviceKey(settings: Settings, training: Training): { key: string; python: string; rvcRoot: string } {
    const rvcRoot = rvcRootOf(settings, training.rvcRoot);
    const python = pythonOf(settings, rvcRoot);
    return { key: `${settings['runner.device']}\0${python}`, python, rvcRoot };
  }

  /** Asks the user's Python once (asynchronously: importing torch takes seconds) and remembers the answer. */
  private async ensureDevice(settings: Settings, training: Training): Promise<void> {
    const { key, python, rvcRoot } = this.deviceKey(settings, training);
    if (this.deviceCache.has(key)) return;
    let choice: DeviceChoice;
    if (settings['runner.device'] === 'cpu' || settings['runner.device'] === 'mps') {
      await runPythonAsync(python, rvcRoot, ['--version']);
      choice = chooseDevice(settings['runner.device'], () => {
        throw new Error('not probed');
      });
    } else {
      const probe = await probeDeviceAsync(python, rvcRoot);
      choice = chooseDevice(settings['runner.device'], () => probe);
    }
    this.deviceCache.set(key, choice);
  }

  private deviceFor(settings: Settings, training: Training): DeviceChoice {
    const choice = this.deviceCache.get(this.deviceKey(settings, training).key);
    if (!choice) throw new Error('the device was not resolved before planning');
    return choice;
  }

  private async launchClaimed(task: Task): Promise<void> {
    this.launching.add(task.id);
    try {
      this.options.faultPoint?.('claimed', task);
      const training = this.trainings.get(task.trainingId);
      if (training.deletedAt !== null)
        throw new UserError(`The training "${training.name}" was deleted; restore it to run its steps.`, 'training-deleted');
      const unmet = unmetDependency(task.stepType, training);
      if (unmet) throw new UserError(unmet, 'dependency');
      const ctx = this.context(task, training);
      const engine = this.lifecycle.engineOf(task);
      if (!task.snapshot.plan && engine.name === 'rvc') await this.ensureDevice(ctx.settings, training);
      if (!this.store.isOpen) return;
      const plan = task.snapshot.plan ?? engine.plan(ctx);
      engine.prepare(ctx, plan);
      const snapshot: TaskSnapshot = { ...task.snapshot, plan };
      const before = this.lifecycle.planned(task, snapshot);
      if (before.cancelRequested || isFinal(before.status)) {
        this.lifecycle.settle(before, { state: 'cancelled' });
        return;
      }
      if (task.executor === 'slurm') {
        await this.slurmSide().submit(before, snapshot);
        return;
      }
      const pid = launch(this.store, task.id, plan);
      this.options.faultPoint?.('spawned', task);
      const launched = this.lifecycle.launched(task, pid, snapshot);
      this.options.faultPoint?.('launched', launched);
      if (launched.cancelRequested) {
        // Cancelled while we were starting it: the canceller saw no process to stop, so we do.
        void terminateGroup(pid, this.options.cancelGraceMs);
      }
      if (this.running) this.attach(launched, pid);
    } catch (error) {
      if (!this.store.isOpen) return;
      const message = isUserError(error) ? error.message : `internal error while starting the step: ${errorMessage(error)}`;
      if (!isUserError(error)) this.reportInternal(`launching ${task.id}`, error);
      try {
        this.lifecycle.settle(this.tasks.get(task.id), { state: 'failed', message });
      } catch (settleError) {
        this.reportInternal(`recording the failed start of ${task.id}`, settleError);
      }
    } finally {
      this.launching.delete(task.id);
    }
  }

  /** The Slurm side, made on first use: its executor and the one poller for all of this runner's jobs. */
  private slurmSide(): SlurmTasks {
    this.slurm ??= new SlurmTasks({
      store: this.store,
      tasks: this.tasks,
      lifecycle: this.lifecycle,
      settings: () => this.options.settings(),
      isRunning: () => this.running,
      ...(this.options.faultPoint ? { faultPoint: this.options.faultPoint } : {}),
      follow: (task, jobId) => this.track(task, null, jobId),
      retarget: (task, jobId) => {
        const entry = this.active.get(task.id);
        if (!entry) return false;
        entry.jobId = jobId;
        entry.task = task;
        return true;
      },
      readLog: (id) => this.readLog(id),
      settle: (id, outcome) => this.settleTask(id, outcome),
      detach: (id) => this.detach(id),
      reportInternal: (what, error) => this.reportInternal(what, error),
    });
    return this.slurm;
  }

  /** Planned for Slurm with no job id recorded: looked up by its job name (marked as launching meanwhile). */
  private async findSubmitted(task: Task): Promise<void> {
    this.launching.add(task.id);
    try {
      await this.slurmSide().findSubmitted(task);
    } finally {
      this.launching.delete(task.id);
    }
  }

  /** Adds the task to the active set (its launcher's pid, or its Slurm job id) and reads its log once. */
  private track(task: Task, pid: number | null, jobId: string | null): void {
    this.active.set(task.id, {
      task,
      pid,
      jobId,
      tail: new TaskLogTail(this.store, this.tasks, task),
      lastReadAt: 0,
      pendingRead: undefined,
    });
    this.readLog(task.id);
  }

  private attach(task: Task, pid: number | null): void {
    this.track(task, pid, null);
    if (readExitRecord(this.store, task.id)) this.check(task.id);
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
  private readLog(id: string): void {
    const entry = this.active.get(id);
    if (!entry || !this.store.isOpen) return;
    entry.lastReadAt = Date.now();
    try {
      entry.tail.read();
    } catch (error) {
      this.reportInternal(`reading the log of ${id}`, error);
    }
  }

  /** Assesses an attached task and settles it once it has exited or is gone. */
  private check(id: string): void {
    let task: Task;
    try {
      task = this.tasks.get(id);
    } catch (error) {
      if (isUserError(error))
        this.detach(id); // the row was purged
      else this.reportInternal(`checking task ${id}`, error);
      return;
    }
    if (isFinal(task.status)) {
      this.detach(id);
      return;
    }
    if (task.slurm !== null) {
      // An exit record without a signal decides at once; one with a signal (Slurm's SIGTERM at a
      // time limit, a pre-emption, the OOM killer) waits for Slurm to say why.
      const exit = readExitRecord(this.store, id);
      if (exit && exit.signal === null && !task.cancelRequested) this.settleTask(id, { state: 'exited', exit });
      else if (exit) void this.slurmSide().check(id);
      else this.readLog(id);
      return;
    }
    const assessed = this.lifecycle.assess(task, this.runnerId);
    if (assessed.state === 'alive') {
      this.readLog(id);
      return;
    }
    if (assessed.state === 'exited') this.options.faultPoint?.('exited', task);
    this.settleTask(id, assessed);
  }

  /** Settle: through the lifecycle, with this runner's log tail so no line is read twice. */
  private settleTask(id: string, outcome: Outcome): void {
    const entry = this.active.get(id);
    this.detach(id);
    try {
      const task = this.tasks.get(id);
      this.lifecycle.settle(task, outcome, entry?.tail);
    } catch (error) {
      this.reportInternal(`settling task ${id}`, error);
    }
    this.schedule();
  }

  private detach(id: string): void {
    const entry = this.active.get(id);
    if (entry?.pendingRead) clearTimeout(entry.pendingRead);
    if (entry?.jobId) this.slurm?.forget(entry.jobId);
    this.active.delete(id);
  }

  /** Start-up and sweep: running tasks whose runner is gone are adopted, then re-attached if alive, settled if not. */
  reattach(): void {
    for (const task of this.tasks.running()) {
      if (this.active.has(task.id) || this.launching.has(task.id)) continue;
      if (task.claimedBy !== this.runnerId && runnerAlive(task.claimedBy)) continue;
      if (!this.lifecycle.adopt(task, this.runnerId)) continue;
      if (task.slurm !== null) {
        // Re-attached by job id: the poller follows it from here; ask once now (it may have ended).
        this.slurmSide().follow({ ...task, claimedBy: this.runnerId });
        void this.slurmSide().check(task.id);
        continue;
      }
      if (task.executor === 'slurm' && task.snapshot.plan) {
        // Planned for Slurm but no job id: its runner may have died between sbatch and recording it.
        void this.findSubmitted({ ...task, claimedBy: this.runnerId });
        continue;
      }
      const assessed = this.lifecycle.assess({ ...task, claimedBy: this.runnerId }, this.runnerId);
      if (assessed.state === 'foreign') continue;
      if (assessed.state === 'alive') this.attach(task, assessed.pid);
      else this.settleTask(task.id, assessed);
    }
  }

  /** The slow safety net: a launcher killed outright writes no exit file, and a runner may die. */
  private sweep(): void {
    if (!this.running || !this.store.isOpen) return;
    try {
      for (const id of [...this.active.keys()]) this.check(id);
      this.reattach();
      this.schedule();
    } catch (error) {
      this.reportInternal('sweep', error);
    }
  }
}

/** Which GPU ids a step holds: training and features use `gpus`, rmvpe_gpu its own list. */
function gpuHeld(step: StepType, params: RunParams): string | null {
  const list = step === 'extract_f0' ? params.gpus_rmvpe : params.gpus;
  const ids = [...new Set(list.split('-').filter(Boolean))];
  return ids.length ? ids.join('-') : null;
}

export type { TaskLogEntry };
