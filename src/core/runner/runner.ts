import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Unsubscribe } from '../events.ts';
import type { Settings } from '../settings.ts';
import { ingestTaskStdout } from '../metrics/metricsIngester.ts';
import { processAlive } from '../store/check.ts';
import type { Store } from '../store/store.ts';
import { TrainingRepository, trainingLogsDir, type Training } from '../store/trainings.ts';
import { errorMessage, isUserError, UserError } from '../util/errors.ts';
import { isInside, resolveInside } from '../util/paths.ts';
import { commandEngine } from './commandEngine.ts';
import { chooseDevice, probeDeviceAsync, runPythonAsync, type DeviceChoice } from './device.ts';
import type { Engine, StepContext } from './engine.ts';
import { resolveParams, type RunParams } from './params.ts';
import {
  launch,
  launcherAlive,
  readExitRecord,
  readStartedRecord,
  taskFiles,
  tasksDirOf,
  terminateGroup,
  type ExitRecord,
} from './processes.ts';
import { lastErrorLines, ProgressTracker } from './progress.ts';
import { pythonOf, rvcEngine, rvcRootOf } from './rvcEngine.ts';
import { readFileTail } from '../util/fileTail.ts';
import { isFinal, remainingSteps, unmetDependency, usesGpu, type StepType } from './steps.ts';
import { TaskRepository, type Task, type TaskLogEntry, type TaskSnapshot } from './taskRepository.ts';
import { extractionComplete, trainingPatchFor, type StepOutcome } from './trainingState.ts';

export interface RunnerOptions {
  /** Read on every use, so a changed setting applies to the next task. */
  settings: () => Settings;
  /** Claim only these tasks (the `run` command works on its own); add ids as they are enqueued. */
  only?: Set<string>;
  /** How often to check that launchers are still alive (a launcher killed with -9 writes no exit file). */
  sweepMs?: number;
  /** SIGTERM, then SIGKILL after this long. */
  cancelGraceMs?: number;
}

export interface EnqueueOptions {
  engine?: 'rvc' | 'command';
  /** WebUI parameter overrides: total_epoch, batch_size, save_every_epoch, … */
  set?: Record<string, string>;
}

interface ActiveTask {
  task: Task;
  pid: number | null;
  offset: number;
  tracker: ProgressTracker;
  lastReadAt: number;
  pendingRead: NodeJS.Timeout | undefined;
}

/** A chatty step (progress bars) must not turn into a commit per write: at most one read per task per this many ms. */
const READ_INTERVAL_MS = 25;
/** Read a log that jumped far ahead in pieces, so one read never holds a huge buffer. */
const MAX_READ_BYTES = 4 << 20;

/** Runner ids of the runners alive in this process (tests and the extension may run several). */
const liveRunners = new Set<string>();

export const ENGINES: Record<'rvc' | 'command', Engine> = { rvc: rvcEngine, command: commandEngine };

/**
 * The pipeline runner: enqueues steps as training_tasks rows, claims them atomically (several
 * runners in several processes share one queue), launches each under a detached launcher, turns its
 * log into progress and task_logs rows, judges the outcome by the files RVC wrote, and keeps the
 * training's state in step. start() re-attaches to tasks left running by a runner that died.
 */
export class Runner {
  readonly runnerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly store: Store;
  readonly tasks: TaskRepository;
  readonly trainings: TrainingRepository;
  private readonly options: Required<Omit<RunnerOptions, 'only'>> & { only?: Set<string> };
  private readonly active = new Map<string, ActiveTask>();
  /** Per training task, the stdout ingestion in flight: reads of one file must not overlap. */
  private readonly stdoutIngestion = new Map<string, Promise<void>>();
  /** Claimed, not yet launched (the device probe is awaited in between): reattach must leave them alone. */
  private readonly launching = new Set<string>();
  private readonly deviceCache = new Map<string, DeviceChoice>();
  private readonly disposables: Unsubscribe[] = [];
  private watcher: fs.FSWatcher | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private running = false;

  constructor(store: Store, options: RunnerOptions) {
    this.store = store;
    this.tasks = new TaskRepository(store);
    this.trainings = new TrainingRepository(store);
    this.options = { sweepMs: 2000, cancelGraceMs: 5000, ...options };
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Queues STEP (or every remaining step, as one chain) for the training NAME. */
  enqueue(trainingName: string, step: StepType | 'all', options: EnqueueOptions = {}): Task[] {
    const training = this.trainings.require(trainingName);
    const settings = this.options.settings();
    const engine = options.engine ?? settings.engine;
    if (engine !== 'rvc' && engine !== 'command') throw new UserError(`Unknown engine "${String(engine)}"; use rvc or command.`, 'usage');
    const params = resolveParams(settings, training, options.set ?? {});
    const steps = step === 'all' ? remainingSteps(training) : [step];
    const pending = this.tasks.list({ trainingId: training.id, limit: 1000 }).filter((t) => !isFinal(t.status));
    for (const s of steps) {
      const clash = pending.find((t) => t.stepType === s);
      if (clash) {
        throw new UserError(`${s} is already ${clash.status} for "${training.name}" (task ${clash.id.slice(0, 8)}); wait for it or cancel it first.`, 'already-queued');
      }
    }
    const chainId = step === 'all' ? randomUUID() : null;
    const logsDir = trainingLogsDir(this.store, training);
    const onGpu = settings.device !== 'cpu' && settings.device !== 'mps';
    const created = this.tasks.insert(
      steps.map((s, i) => ({
        trainingId: training.id,
        stepType: s,
        snapshot: { engine, params: params as unknown as TaskSnapshot['params'], training: { name: training.name, logsDir } },
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
    const pending = this.tasks.list({ trainingId: old.trainingId, limit: 1000 }).find((t) => !isFinal(t.status) && t.stepType === old.stepType);
    if (pending) throw new UserError(`${old.stepType} is already ${pending.status} (task ${pending.id.slice(0, 8)}).`, 'already-queued');
    const [task] = this.tasks.insert([{ trainingId: old.trainingId, stepType: old.stepType, snapshot: old.snapshot, gpuId: old.gpuId, retryOf: old.id }]);
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
    if (task.status === 'queued' && this.tasks.finish(task.id, { status: 'cancelled', errorMsg: 'cancelled by the user' })) {
      this.tasks.cancelRestOfChain(task, `cancelled: ${task.stepType} before it in the chain was cancelled`);
      return this.tasks.get(task.id);
    }
    const current = this.tasks.get(task.id);
    const pid = current.pid ?? readStartedRecord(this.store, task.id)?.launcherPid ?? null;
    if (pid !== null) await terminateGroup(pid, this.options.cancelGraceMs);
    // The runner that owns the task (another window, a worker) records the end itself, with the
    // last log lines; step in only if it does not within a few seconds.
    if (current.claimedBy !== this.runnerId && runnerAlive(current.claimedBy)) {
      const deadline = Date.now() + 3000;
      while (!isFinal(this.tasks.get(task.id).status) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.finalise(task.id);
    return this.tasks.get(task.id);
  }

  /** Re-attaches to running tasks, then claims and launches queued ones as they become eligible. */
  start(): void {
    if (this.running) return;
    this.running = true;
    liveRunners.add(this.runnerId);
    fs.mkdirSync(tasksDirOf(this.store), { recursive: true });
    this.watcher = fs.watch(tasksDirOf(this.store), { persistent: false }, (_event, filename) => this.onTaskFile(filename ? String(filename) : null));
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
    liveRunners.delete(this.runnerId);
    this.watcher?.close();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
    for (const id of [...this.active.keys()]) this.detach(id);
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
          const claimed = this.tasks.claimNext(this.runnerId, this.options.only ? { cpuConcurrency, only: this.options.only } : { cpuConcurrency });
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

  private engineOf(task: Task): Engine {
    return ENGINES[task.snapshot.engine] ?? rvcEngine;
  }

  private context(task: Task, training: Training): StepContext {
    const settings = this.options.settings();
    const logsDir = task.snapshot.training.logsDir || trainingLogsDir(this.store, training);
    return {
      store: this.store,
      settings,
      training,
      taskId: task.id,
      step: task.stepType,
      params: task.snapshot.params as unknown as RunParams,
      logsDir,
      device: () => this.deviceFor(settings, training),
    };
  }

  private deviceKey(settings: Settings, training: Training): { key: string; python: string; rvcRoot: string } {
    const rvcRoot = rvcRootOf(settings, training.rvcRoot);
    const python = pythonOf(settings, rvcRoot);
    return { key: `${settings.device}\0${python}`, python, rvcRoot };
  }

  /** Asks the user's Python once (asynchronously: importing torch takes seconds) and remembers the answer. */
  private async ensureDevice(settings: Settings, training: Training): Promise<void> {
    const { key, python, rvcRoot } = this.deviceKey(settings, training);
    if (this.deviceCache.has(key)) return;
    let choice: DeviceChoice;
    if (settings.device === 'cpu' || settings.device === 'mps') {
      await runPythonAsync(python, rvcRoot, ['--version']);
      choice = chooseDevice(settings.device, () => {
        throw new Error('not probed');
      });
    } else {
      const probe = await probeDeviceAsync(python, rvcRoot);
      choice = chooseDevice(settings.device, () => probe);
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
      const training = this.trainings.get(task.trainingId);
      if (training.deletedAt !== null) throw new UserError(`The training "${training.name}" was deleted; restore it to run its steps.`, 'training-deleted');
      const unmet = unmetDependency(task.stepType, training);
      if (unmet) throw new UserError(unmet, 'dependency');
      const ctx = this.context(task, training);
      const engine = this.engineOf(task);
      if (!task.snapshot.plan && engine.name === 'rvc') await this.ensureDevice(ctx.settings, training);
      if (!this.store.isOpen) return;
      const plan = task.snapshot.plan ?? engine.plan(ctx);
      engine.prepare(ctx, plan);
      const snapshot: TaskSnapshot = { ...task.snapshot, plan };
      const before = this.tasks.get(task.id);
      if (before.cancelRequested || isFinal(before.status)) {
        this.tasks.finish(task.id, { status: 'cancelled', errorMsg: 'cancelled by the user' });
        return;
      }
      const pid = launch(this.store, task.id, plan);
      const launched = this.tasks.markLaunched(task.id, pid, taskFiles(this.store, task.id).log, snapshot);
      if (launched.cancelRequested) {
        // Cancelled while we were starting it: the canceller saw no process to stop, so we do.
        void terminateGroup(pid, this.options.cancelGraceMs);
      }
      this.applyTrainingState(launched, 'started', {});
      if (this.running) this.attach(launched, pid);
    } catch (error) {
      if (!this.store.isOpen) return;
      const message = isUserError(error) ? error.message : `internal error while starting the step: ${errorMessage(error)}`;
      if (!isUserError(error)) this.reportInternal(`launching ${task.id}`, error);
      if (this.tasks.finish(task.id, { status: 'failed', errorMsg: message })) {
        this.tasks.addLog(task.id, 'ERROR', message);
        this.tasks.cancelRestOfChain(task, `cancelled: ${task.stepType} before it in the chain failed`);
      }
    } finally {
      this.launching.delete(task.id);
    }
  }

  private attach(task: Task, pid: number | null): void {
    const tracker = new ProgressTracker(
      task.stepType,
      { totalEpoch: Number((task.snapshot.params as Record<string, unknown>).total_epoch) || 1, datasetFiles: (task.snapshot.plan?.expect.audio as string[] | undefined)?.length },
      { progress: task.progress, at: Date.now() },
    );
    this.active.set(task.id, { task, pid, offset: task.logOffset, tracker, lastReadAt: 0, pendingRead: undefined });
    this.readLog(task.id);
    if (readExitRecord(this.store, task.id)) this.finalise(task.id);
  }

  private onTaskFile(filename: string | null): void {
    if (!filename) return;
    const id = filename.slice(0, 36);
    if (!this.active.has(id)) return;
    if (filename.endsWith('.log')) this.readLogSoon(id);
    else if (filename.endsWith('.exit.json')) this.finalise(id);
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

  /** Reads what the task's log gained since the last read; only whole lines are consumed until the end. */
  private readLog(id: string, final = false): void {
    const entry = this.active.get(id);
    if (!entry || !this.store.isOpen) return;
    entry.lastReadAt = Date.now();
    let fd: number;
    try {
      fd = fs.openSync(taskFiles(this.store, id).log, 'r');
    } catch {
      return;
    }
    try {
      for (;;) {
        const size = fs.fstatSync(fd).size;
        if (size <= entry.offset) return;
        const buffer = Buffer.alloc(Math.min(size - entry.offset, MAX_READ_BYTES));
        let chunk = buffer.subarray(0, fs.readSync(fd, buffer, 0, buffer.length, entry.offset));
        const full = chunk.length === MAX_READ_BYTES;
        if (!final && !full) {
          const lastNewline = Math.max(chunk.lastIndexOf(0x0a), chunk.lastIndexOf(0x0d));
          if (lastNewline < 0) return;
          chunk = chunk.subarray(0, lastNewline + 1);
        }
        const lines = chunk.toString('utf8').split(/\r?\n|\r/);
        if (lines[lines.length - 1] === '') lines.pop();
        const update = entry.tracker.feed(lines);
        entry.offset += chunk.length;
        this.tasks.recordLog(id, { logOffset: entry.offset, progress: update.progress, etaMs: update.etaMs, lines: update.notable });
        this.store.events.emit('taskLog', { taskId: id, lines });
        if (update.progress !== undefined) this.store.events.emit('taskChanged', { taskId: id, trainingId: entry.task.trainingId });
        if (entry.task.stepType === 'train_model') this.ingestTrainingStdout(entry.task);
        if (!full) return;
      }
    } catch (error) {
      this.reportInternal(`reading the log of ${id}`, error);
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * RVC 20240604 prints its losses only to stdout (train.log stays empty) and TensorBoard flushes every
   * 120 s, so the captured log is where live curve points come from.
   */
  private ingestTrainingStdout(task: Task): void {
    const previous = this.stdoutIngestion.get(task.id) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        if (this.store.isOpen) await ingestTaskStdout(this.store, task.trainingId, taskFiles(this.store, task.id).log);
      })
      .catch((error: unknown) => this.reportInternal(`reading losses from the log of ${task.id}`, error))
      .finally(() => {
        if (this.stdoutIngestion.get(task.id) === next) this.stdoutIngestion.delete(task.id);
      });
    this.stdoutIngestion.set(task.id, next);
  }

  /**
   * Records how a running task ended: from its exit file and its outputs; as cancelled when a
   * cancel was asked for; as "interrupted (process gone)" when its launcher vanished without one.
   */
  finalise(id: string): void {
    let task: Task;
    try {
      task = this.tasks.get(id);
    } catch {
      this.detach(id);
      return;
    }
    if (isFinal(task.status)) {
      this.detach(id);
      return;
    }
    if (!this.active.has(id)) this.attachQuietly(task);
    this.readLog(id, true);
    this.detach(id);
    const exit = readExitRecord(this.store, id);
    const logTail = readFileTail(taskFiles(this.store, id).log);
    let outcome: { status: 'success' | 'failed' | 'cancelled'; errorMsg: string | null; exit?: ExitRecord; warnings: string[]; resultModelPath?: string };
    if (task.cancelRequested) {
      outcome = { status: 'cancelled', errorMsg: 'cancelled by the user', exit, warnings: [] };
    } else if (!exit) {
      const lines = lastErrorLines(logTail, 4);
      outcome = { status: 'failed', errorMsg: ['interrupted (process gone)', ...lines].join('\n'), warnings: [] };
    } else {
      try {
        const training = this.trainings.get(task.trainingId);
        const ctx = this.context(task, training);
        const plan = task.snapshot.plan;
        const judgement = plan
          ? this.engineOf(task).judge(ctx, plan, exit, logTail, task.startedAt ?? 0)
          : { ok: false, error: 'the task has no launch plan', warnings: [] };
        outcome = { status: judgement.ok ? 'success' : 'failed', errorMsg: judgement.error ?? null, exit, warnings: judgement.warnings };
        if (judgement.resultModelPath) outcome.resultModelPath = judgement.resultModelPath;
      } catch (error) {
        outcome = { status: 'failed', errorMsg: `could not check the step's outputs: ${errorMessage(error)}`, exit, warnings: [] };
      }
    }
    this.removeStaging(task);
    const won = this.tasks.finish(id, {
      status: outcome.status,
      errorMsg: outcome.errorMsg,
      exitCode: outcome.exit?.code ?? null,
      exitSignal: outcome.exit?.signal ?? null,
      progress: outcome.status === 'success' ? 100 : null,
    });
    if (!won) return;
    for (const warning of outcome.warnings) this.tasks.addLog(id, 'WARN', warning);
    if (outcome.errorMsg && outcome.status === 'failed') this.tasks.addLog(id, 'ERROR', outcome.errorMsg.split('\n')[0]!);
    const finished = this.tasks.get(id);
    this.applyTrainingState(finished, outcome.status, { resultModelPath: outcome.resultModelPath });
    if (outcome.status !== 'success') {
      this.tasks.cancelRestOfChain(finished, `cancelled: ${finished.stepType} before it in the chain ${outcome.status === 'cancelled' ? 'was cancelled' : 'failed'}`);
    }
    this.schedule();
  }

  /** The folder of links preprocess read instead of a dataset with hidden folders is not needed afterwards. */
  private removeStaging(task: Task): void {
    const staged = task.snapshot.plan?.expect.staged;
    if (typeof staged !== 'string') return;
    const stagingRoot = resolveInside(this.store.storeDir, 'staging');
    if (isInside(stagingRoot, staged) && path.resolve(staged) !== stagingRoot) fs.rmSync(staged, { recursive: true, force: true });
  }

  private detach(id: string): void {
    const entry = this.active.get(id);
    if (entry?.pendingRead) clearTimeout(entry.pendingRead);
    this.active.delete(id);
  }

  private attachQuietly(task: Task): void {
    const tracker = new ProgressTracker(task.stepType, { totalEpoch: 1 }, { progress: task.progress, at: Date.now() });
    this.active.set(task.id, { task, pid: task.pid, offset: task.logOffset, tracker, lastReadAt: 0, pendingRead: undefined });
  }

  private applyTrainingState(task: Task, outcome: StepOutcome, facts: { resultModelPath?: string | undefined }): void {
    try {
      const training = this.trainings.get(task.trainingId);
      const params = task.snapshot.params as unknown as RunParams;
      const isExtract = task.stepType === 'extract_f0' || task.stepType === 'extract_feature';
      let complete: boolean | undefined;
      if (isExtract && outcome === 'success') {
        complete =
          task.snapshot.engine === 'rvc'
            ? extractionComplete(task.snapshot.training.logsDir, params.version, params.if_f0 === 1)
            : task.stepType === 'extract_feature';
      }
      const patch = trainingPatchFor(training, task.stepType, outcome, {
        ...(complete !== undefined ? { extractionComplete: complete } : {}),
        ...(facts.resultModelPath ? { resultModelPath: facts.resultModelPath } : {}),
      });
      if (Object.keys(patch).length > 0) this.trainings.update(training.id, patch);
    } catch (error) {
      this.reportInternal(`updating the training of ${task.id}`, error);
    }
  }

  /** Start-up: running tasks are re-attached if their launcher lives, finalised if it is gone. */
  reattach(): void {
    for (const task of this.tasks.running()) {
      if (this.active.has(task.id) || this.launching.has(task.id)) continue;
      if (task.claimedBy !== this.runnerId && runnerAlive(task.claimedBy)) continue;
      if (task.claimedBy !== this.runnerId && !this.tasks.adopt(task.id, task.claimedBy, this.runnerId)) continue;
      const pid = task.pid ?? readStartedRecord(this.store, task.id)?.launcherPid ?? null;
      if (pid === null && !readExitRecord(this.store, task.id)) {
        // Claimed, but its runner died before the launcher started.
        this.tasks.finish(task.id, { status: 'failed', errorMsg: 'interrupted (process gone): the runner stopped before the step started' });
        this.tasks.cancelRestOfChain(task, `cancelled: ${task.stepType} before it in the chain failed`);
        continue;
      }
      this.attach(task, pid);
      if (this.active.has(task.id) && !launcherAlive(pid, task.id)) this.finalise(task.id);
    }
  }

  /** The slow safety net: a launcher killed outright writes no exit file, and a runner may die. */
  private sweep(): void {
    if (!this.running || !this.store.isOpen) return;
    try {
      for (const [id, entry] of [...this.active]) {
        // finalise re-reads the exit file after the liveness check, so a launcher that wrote it
        // just before exiting is still judged by it.
        if (readExitRecord(this.store, id) || !launcherAlive(entry.pid, id)) this.finalise(id);
        else this.readLog(id);
      }
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

/** A runner is alive if it is one of ours, or its process on this host still exists. */
function runnerAlive(claimedBy: string | null): boolean {
  if (!claimedBy) return false;
  if (liveRunners.has(claimedBy)) return true;
  const [host, pidText] = claimedBy.split(':');
  const pid = Number(pidText);
  if (host !== os.hostname()) return true; // another machine on a shared folder: not ours to judge
  if (pid === process.pid) return false; // a runner of this process that has stopped
  return processAlive(pid);
}

export type { TaskLogEntry };
