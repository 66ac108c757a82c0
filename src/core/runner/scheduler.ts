import type { Training } from '../store/trainings.ts';
import { errorMessage, isUserError, msg, UserError } from '../util/errors.ts';
import type { AttachedTasks } from './attachedTasks.ts';
import type { DeviceCache } from './deviceCache.ts';
import type { StepContext } from './engine.ts';
import { launch, terminateGroup } from './processes.ts';
import { reportInternal, type RunnerContext } from './runnerContext.ts';
import type { RunnerSlurm } from './runnerSlurm.ts';
import { unmetDependency } from './steps.ts';
import { isFinal } from '../store/vocabulary.ts';
import type { Task, TaskPlan, TaskSnapshot } from './taskSnapshot.ts';

export interface SchedulerParts {
  attached: AttachedTasks;
  slurm: RunnerSlurm;
  devices: DeviceCache;
}

/**
 * The scheduler: claims whatever may start now (atomically, shared with other runners), plans and
 * prepares it through its engine, and launches it under a detached launcher (or submits it to
 * Slurm); a slow sweep re-checks what is attached and re-attaches what dead runners left.
 */
export class Scheduler {
  private readonly ctx: RunnerContext;
  private readonly parts: SchedulerParts;
  private scheduled = false;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(ctx: RunnerContext, parts: SchedulerParts) {
    this.ctx = ctx;
    this.parts = parts;
  }

  startSweeping(): void {
    this.sweepTimer = setInterval(() => this.sweep(), this.ctx.options.sweepMs);
  }

  stopSweeping(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  /** Claims and launches whatever may start now; coalesced so a burst of events runs it once. */
  schedule(): void {
    if (!this.ctx.isRunning() || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const { store, options, lifecycle, runnerId } = this.ctx;
      if (!this.ctx.isRunning() || !store.isOpen) return;
      try {
        const cpuConcurrency = Math.max(1, options.settings()['queue.cpuConcurrency']);
        for (;;) {
          const claimed = lifecycle.claim(runnerId, options.only ? { cpuConcurrency, only: options.only } : { cpuConcurrency });
          if (!claimed) break;
          void this.launchClaimed(claimed);
        }
      } catch (error) {
        reportInternal(store, 'scheduling', error);
      }
    });
  }

  private context(task: Task, training: Training): StepContext {
    const settings = this.ctx.options.settings();
    return {
      ...this.ctx.lifecycle.context(task, settings),
      training,
      executor: task.executor,
      device: () => this.parts.devices.get(settings, training),
    };
  }

  private async launchClaimed(task: Task): Promise<void> {
    const { store, lifecycle, options, launching } = this.ctx;
    launching.add(task.id);
    try {
      options.faultPoint?.('claimed', task);
      const training = lifecycle.trainings.get(task.trainingId);
      if (training.deletedAt !== null)
        throw new UserError(msg`The training "${training.name}" was deleted; restore it to run its steps.`, 'training-deleted');
      const unmet = unmetDependency(task.stepType, training);
      if (unmet) throw new UserError(unmet, 'dependency');
      const ctx = this.context(task, training);
      const engine = lifecycle.engineOf(task);
      if (!task.snapshot.plan && engine.name === 'rvc') await this.parts.devices.ensure(ctx.settings, training);
      if (!store.isOpen) return;
      const plan = task.snapshot.plan ?? engine.plan(ctx);
      engine.prepare(ctx, plan);
      const snapshot: TaskSnapshot = { ...task.snapshot, plan };
      const before = lifecycle.planned(task, snapshot);
      if (before.cancelRequested || isFinal(before.status)) {
        lifecycle.settle(before, { state: 'cancelled' });
        return;
      }
      if (task.executor === 'slurm') {
        await this.parts.slurm.side().submit(before, snapshot);
        return;
      }
      this.launchLocal(task, plan, snapshot);
    } catch (error) {
      this.failedStart(task, error);
    } finally {
      launching.delete(task.id);
    }
  }

  /** Spawns the task's launcher here and attaches to it. */
  private launchLocal(task: Task, plan: TaskPlan, snapshot: TaskSnapshot): void {
    const { store, lifecycle, options } = this.ctx;
    const pid = launch(store, task.id, plan);
    options.faultPoint?.('spawned', task);
    const launched = lifecycle.launched(task, pid, snapshot);
    options.faultPoint?.('launched', launched);
    if (launched.cancelRequested) {
      // Cancelled while we were starting it: the canceller saw no process to stop, so we do.
      void terminateGroup(pid, options.cancelGraceMs);
    }
    if (this.ctx.isRunning()) this.parts.attached.attach(launched, pid);
  }

  /** A step that could not start is failed with the sentence its UserError gives (or as an internal error). */
  private failedStart(task: Task, error: unknown): void {
    const { store, lifecycle } = this.ctx;
    if (!store.isOpen) return;
    const message = isUserError(error) ? error.message : `internal error while starting the step: ${errorMessage(error)}`;
    if (!isUserError(error)) reportInternal(store, `launching ${task.id}`, error);
    try {
      lifecycle.settle(this.ctx.tasks.get(task.id), { state: 'failed', message });
    } catch (settleError) {
      reportInternal(store, `recording the failed start of ${task.id}`, settleError);
    }
  }

  /** The slow safety net: a launcher killed outright writes no exit file, and a runner may die. */
  private sweep(): void {
    if (!this.ctx.isRunning() || !this.ctx.store.isOpen) return;
    try {
      for (const id of this.parts.attached.ids()) this.parts.attached.check(id);
      this.parts.attached.reattach();
      this.schedule();
    } catch (error) {
      reportInternal(this.ctx.store, 'sweep', error);
    }
  }
}
