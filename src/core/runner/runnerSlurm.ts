import type { AttachedTasks } from './attachedTasks.ts';
import { reportInternal, type RunnerContext } from './runnerContext.ts';
import { SlurmTasks } from './slurm/slurmTasks.ts';
import type { Task } from './taskSnapshot.ts';

/**
 * The runner's Slurm wiring: its SlurmTasks (the executor and the one poller for all of this
 * runner's jobs), made on first use and hooked to the runner's attached tasks.
 */
export class RunnerSlurm {
  private readonly ctx: RunnerContext;
  private readonly attached: () => AttachedTasks;
  private slurm: SlurmTasks | undefined;

  constructor(ctx: RunnerContext, attached: () => AttachedTasks) {
    this.ctx = ctx;
    this.attached = attached;
  }

  side(): SlurmTasks {
    const { ctx } = this;
    this.slurm ??= new SlurmTasks({
      store: ctx.store,
      tasks: ctx.tasks,
      lifecycle: ctx.lifecycle,
      settings: () => ctx.options.settings(),
      isRunning: () => ctx.isRunning(),
      ...(ctx.options.faultPoint ? { faultPoint: ctx.options.faultPoint } : {}),
      follow: (task, jobId) => this.attached().track(task, null, jobId),
      retarget: (task, jobId) => this.attached().retarget(task, jobId),
      readLog: (id) => this.attached().readLog(id),
      settle: (id, outcome) => this.attached().settle(id, outcome),
      detach: (id) => this.attached().detach(id),
      reportInternal: (what, error) => reportInternal(ctx.store, what, error),
    });
    return this.slurm;
  }

  /** Planned for Slurm with no job id recorded: looked up by its job name (marked as launching meanwhile). */
  async findSubmitted(task: Task): Promise<void> {
    this.ctx.launching.add(task.id);
    try {
      await this.side().findSubmitted(task);
    } finally {
      this.ctx.launching.delete(task.id);
    }
  }

  /** The runner let go of the task: its job is no longer polled (nothing to do if no job was ever followed). */
  forget(jobId: string): void {
    this.slurm?.forget(jobId);
  }

  dispose(): void {
    this.slurm?.dispose();
  }
}
