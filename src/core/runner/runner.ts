import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import type { Unsubscribe } from '../events.ts';
import type { Store } from '../store/store.ts';
import { TrainingRepository, trainingLogsDir } from '../store/trainings.ts';
import { msg, UserError } from '../util/errors.ts';
import { AttachedTasks } from './attachedTasks.ts';
import { DeviceCache } from './deviceCache.ts';
import { resolveParams, type RunParams } from './params.ts';
import { readStartedRecord, terminateGroup } from './processes.ts';
import type { RunnerContext, RunnerOptions } from './runnerContext.ts';
import { RunnerSlurm } from './runnerSlurm.ts';
import { Scheduler } from './scheduler.ts';
import { remainingSteps, usesGpu } from './steps.ts';
import { isFinal, type StepType } from '../store/vocabulary.ts';
import { ENGINES, registerLiveRunner, runnerAlive, TaskLifecycle, unregisterLiveRunner } from './taskLifecycle.ts';
import type { Task, TaskReader } from './taskSnapshot.ts';
import type { TaskLogEntry } from '../store/taskRepository.ts';

export type { RunnerOptions } from './runnerContext.ts';

export interface EnqueueOptions {
  engine?: 'rvc' | 'command';
  /** WebUI parameter overrides: total_epoch, batch_size, save_every_epoch, … */
  set?: Record<string, string>;
}

export { ENGINES };

/**
 * The pipeline runner's queue API (enqueue, retry, cancel, wait), over its parts: the scheduler
 * (claim enqueued training_tasks rows atomically — several runners in several processes share one
 * queue — and launch each under a detached launcher), the device cache, the attached tasks (their
 * logs into progress and task_logs rows; their ends settled through TaskLifecycle, which judges the
 * outcome by the files RVC wrote and keeps the chain and the training in step) and the Slurm
 * wiring. start() re-attaches to tasks left running by a runner that died.
 */
export class Runner {
  readonly runnerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly store: Store;
  /** The queue's rows, read-only: tasks move only through `lifecycle`. */
  readonly tasks: TaskReader;
  readonly trainings: TrainingRepository;
  readonly lifecycle: TaskLifecycle;
  private readonly ctx: RunnerContext;
  private readonly attached: AttachedTasks;
  private readonly slurm: RunnerSlurm;
  private readonly scheduler: Scheduler;
  private readonly disposables: Unsubscribe[] = [];
  private running = false;

  constructor(store: Store, options: RunnerOptions) {
    this.store = store;
    this.trainings = new TrainingRepository(store);
    const resolved = { sweepMs: 2000, cancelGraceMs: 5000, ...options };
    const faultPoint = options.faultPoint;
    this.lifecycle = new TaskLifecycle(store, { settings: () => resolved.settings(), ...(faultPoint ? { faultPoint } : {}) });
    this.tasks = this.lifecycle.tasks;
    this.ctx = {
      runnerId: this.runnerId,
      store,
      tasks: this.tasks,
      lifecycle: this.lifecycle,
      options: resolved,
      launching: new Set(),
      isRunning: () => this.running,
    };
    this.attached = new AttachedTasks(this.ctx, { slurm: () => this.slurm, schedule: () => this.schedule() });
    this.slurm = new RunnerSlurm(this.ctx, () => this.attached);
    this.scheduler = new Scheduler(this.ctx, { attached: this.attached, slurm: this.slurm, devices: new DeviceCache() });
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Queues STEP (or every remaining step, as one chain) for the training NAME. */
  enqueue(trainingName: string, step: StepType | 'all', options: EnqueueOptions = {}): Task[] {
    const training = this.trainings.require(trainingName);
    const settings = this.ctx.options.settings();
    const engine = options.engine ?? settings['runner.engine'];
    if (engine !== 'rvc' && engine !== 'command')
      throw new UserError(msg`Unknown engine "${String(engine)}"; use rvc or command.`, 'usage');
    const params = resolveParams(settings, training, options.set ?? {});
    const steps = step === 'all' ? remainingSteps(training) : [step];
    const pending = this.tasks.list({ trainingId: training.id, limit: 1000 }).filter((t) => !isFinal(t.status));
    for (const s of steps) {
      const clash = pending.find((t) => t.stepType === s);
      if (clash) {
        throw new UserError(
          msg`${s} is already ${clash.status} for "${training.name}" (task ${clash.id.slice(0, 8)}); wait for it or cancel it first.`,
          'already-queued',
        );
      }
    }
    const chainId = step === 'all' ? randomUUID() : null;
    const logsDir = trainingLogsDir(this.store, training);
    const onGpu = settings['runner.device'] !== 'cpu' && settings['runner.device'] !== 'mps';
    const created = this.lifecycle.enqueue(
      steps.map((s, i) => ({
        trainingId: training.id,
        stepType: s,
        snapshot: {
          engine,
          params,
          training: { name: training.name, logsDir },
          executor: settings['runner.executor'] === 'slurm' ? 'slurm' : 'local',
        },
        gpuId: onGpu && usesGpu(s, params.f0_method) ? gpuHeld(s, params) : null,
        chainId,
        chainSeq: chainId ? i : null,
      })),
    );
    this.claimOnly(created);
    this.schedule();
    return created;
  }

  /** A new task with the failed or cancelled task's snapshot (same parameters, same command). */
  retry(idOrPrefix: string): Task {
    const old = this.tasks.resolve(idOrPrefix);
    if (old.status !== 'failed' && old.status !== 'cancelled') {
      throw new UserError(
        msg`Task ${old.id.slice(0, 8)} is ${old.status}; only failed or cancelled tasks can be retried.`,
        'not-retryable',
      );
    }
    const pending = this.tasks
      .list({ trainingId: old.trainingId, limit: 1000 })
      .find((t) => !isFinal(t.status) && t.stepType === old.stepType);
    if (pending) throw new UserError(msg`${old.stepType} is already ${pending.status} (task ${pending.id.slice(0, 8)}).`, 'already-queued');
    const [task] = this.lifecycle.enqueue([
      { trainingId: old.trainingId, stepType: old.stepType, snapshot: old.snapshot, gpuId: old.gpuId, retryOf: old.id },
    ]);
    this.claimOnly([task!]);
    this.schedule();
    return task!;
  }

  /** A `run` command's runner claims only the tasks it enqueued. */
  private claimOnly(tasks: Task[]): void {
    if (this.ctx.options.only) for (const task of tasks) this.ctx.options.only.add(task.id);
  }

  /**
   * Cancels a queued task at once; a running one gets SIGTERM to its whole process group, SIGKILL
   * after the grace period, and is recorded as cancelled once nothing of it is left.
   */
  async cancel(idOrPrefix: string): Promise<Task> {
    const task = this.tasks.resolve(idOrPrefix);
    if (isFinal(task.status)) throw new UserError(msg`Task ${task.id.slice(0, 8)} has already ended (${task.status}).`, 'not-running');
    this.lifecycle.requestCancel(task);
    if (task.status === 'queued' && this.lifecycle.cancelQueued(task)) return this.tasks.get(task.id);
    const current = this.tasks.get(task.id);
    if (current.snapshot.slurm && current.slurm !== null) {
      // scancel, and wait until Slurm says the job ended (nothing of it runs on the node any more).
      await this.slurm.side().executor.cancel(current.snapshot.slurm);
      this.attached.settle(current.id, { state: 'cancelled' });
      return this.tasks.get(task.id);
    }
    const pid = current.pid ?? readStartedRecord(this.store, task.id)?.launcherPid ?? null;
    if (pid !== null) await terminateGroup(pid, this.ctx.options.cancelGraceMs);
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
      const starting = this.ctx.launching.has(task.id) || (assessed.state === 'alive' && assessed.pid === null);
      if (!starting) this.attached.settle(after.id, { state: 'cancelled' });
    }
    return this.tasks.get(task.id);
  }

  /** Re-attaches to running tasks, then claims and launches queued ones as they become eligible. */
  start(): void {
    if (this.running) return;
    this.running = true;
    registerLiveRunner(this.runnerId);
    this.attached.watch();
    this.disposables.push(this.store.events.on('taskChanged', () => this.schedule()));
    this.disposables.push(this.store.events.on('externalChange', () => this.schedule()));
    this.disposables.push(this.store.watchExternalChanges());
    this.scheduler.startSweeping();
    this.reattach();
    this.schedule();
  }

  /** Stops claiming and watching. Running steps keep running; their launchers record how they end. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    unregisterLiveRunner(this.runnerId);
    this.scheduler.stopSweeping();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.attached.unwatch();
    this.slurm.dispose();
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
        reject(new UserError(msg`Stopped waiting; the tasks go on in the background ("rvc-studio task list" shows them).`, 'interrupted'));
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
    this.scheduler.schedule();
  }

  /** Start-up and sweep: running tasks whose runner is gone are adopted, then re-attached if alive, settled if not. */
  reattach(): void {
    this.attached.reattach();
  }
}

/** Which GPU ids a step holds: training and features use `gpus`, rmvpe_gpu its own list. */
function gpuHeld(step: StepType, params: RunParams): string | null {
  const list = step === 'extract_f0' ? params.gpus_rmvpe : params.gpus;
  const ids = [...new Set(list.split('-').filter(Boolean))];
  return ids.length ? ids.join('-') : null;
}

export type { TaskLogEntry };
