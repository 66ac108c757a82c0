import * as fs from 'node:fs';
import type { Settings } from '../../settings.ts';
import { isUserErrorCode } from '../../util/errors.ts';
import { readFileTail } from '../../util/fileTail.ts';
import { taskFiles } from '../processes.ts';
import { isFinal } from '../../store/vocabulary.ts';
import type { FaultPoint, Outcome, TaskLifecycle } from '../taskLifecycle.ts';
import type { SlurmJobRef, Task, TaskReader, TaskSnapshot } from '../taskSnapshot.ts';
import type { Store } from '../../store/store.ts';
import { jobResources } from './jobScript.ts';
import { SlurmClient, type QueueEntry } from './slurmClient.ts';
import { SlurmExecutor, type SlurmLiveness } from './slurmExecutor.ts';
import { SlurmPoller } from './slurmPoller.ts';

/** What the Slurm side needs of the runner it belongs to: its store, its active set and its settle. */
export interface SlurmTaskHost {
  readonly store: Store;
  readonly tasks: TaskReader;
  readonly lifecycle: TaskLifecycle;
  settings(): Settings;
  /** False once the runner stopped: a task submitted after that is left for the next runner to re-attach. */
  isRunning(): boolean;
  faultPoint?: (point: FaultPoint, task: Task) => void;
  /** Adds the task to the runner's active set (log tail, no pid) and reads its log once. */
  follow(task: Task, jobId: string): void;
  /** Points the active entry at a resubmitted job; false when the task is no longer active. */
  retarget(task: Task, jobId: string): boolean;
  readLog(id: string): void;
  settle(id: string, outcome: Outcome): void;
  detach(id: string): void;
  reportInternal(what: string, error: unknown): void;
}

/**
 * The runner's Slurm side: a claimed task becomes one batch job running the same launcher on a
 * compute node; one poller (one squeue per interval for all jobs) follows the jobs; each change is
 * recorded on the task (the views show the pending reason) and an ended job is settled through the
 * lifecycle, with Slurm's sentence when Slurm itself ended it. A training pre-empted or lost with its
 * node is resubmitted once and resumes from its checkpoint.
 */
export class SlurmTasks {
  readonly executor: SlurmExecutor;
  private readonly poller: SlurmPoller;
  private readonly host: SlurmTaskHost;
  private readonly byJob = new Map<string, string>();
  private readonly checking = new Set<string>();

  constructor(host: SlurmTaskHost) {
    this.host = host;
    const settings = host.settings();
    this.executor = new SlurmExecutor({
      client: new SlurmClient(),
      settings: () => host.settings(),
      ...(settings['slurm.nodePath'] ? { nodePath: settings['slurm.nodePath'] } : {}),
    });
    this.poller = new SlurmPoller(this.executor.client, {
      intervalMs: Math.max(200, settings['slurm.pollSeconds'] * 1000),
      onChange: (change) => {
        const id = this.byJob.get(change.jobId);
        if (id) void this.check(id, change.current ?? null);
      },
      onError: (error) => host.reportInternal('polling Slurm (squeue)', error),
    });
  }

  /** Launch on Slurm: the task keeps no pid, its job id is what a new runner re-attaches by. */
  async submit(task: Task, snapshot: TaskSnapshot): Promise<void> {
    const { store, lifecycle } = this.host;
    const gpuBound = task.gpuId !== null;
    const partition = jobResources(this.host.settings(), task.stepType, gpuBound).partition;
    const handle = await this.executor.start({
      taskId: task.id,
      step: task.stepType,
      gpuBound,
      files: taskFiles(store, task.id),
      plan: snapshot.plan!,
    });
    this.host.faultPoint?.('spawned', task);
    if (!store.isOpen) return;
    const submitted = lifecycle.submitted(task, handle, partition, snapshot);
    this.host.faultPoint?.('launched', submitted);
    if (submitted.cancelRequested) {
      // Cancelled while the job was being submitted: the canceller saw no job to scancel.
      await this.executor.cancel(handle);
      this.host.settle(task.id, { state: 'cancelled' });
      return;
    }
    if (this.host.isRunning()) this.follow(submitted);
  }

  /**
   * A Slurm task whose runner stopped after planning it and before recording a job id: its job is
   * looked up by name and adopted when Slurm has one; with none, nothing was submitted and the task
   * is settled as interrupted. A failed lookup leaves the task to the next sweep.
   */
  async findSubmitted(task: Task): Promise<void> {
    const { store, lifecycle } = this.host;
    try {
      const found = await this.executor.findSubmitted(task.id, task.stepType, taskFiles(store, task.id));
      if (!store.isOpen) return;
      if (!found) {
        this.host.settle(task.id, { state: 'gone', pid: null, reason: 'the runner stopped before Slurm accepted its job' });
        return;
      }
      const submitted = lifecycle.submitted(task, found.handle, found.entry.partition, task.snapshot);
      lifecycle.note(
        task.id,
        'INFO',
        `re-attached to Slurm job ${found.handle.jobId}, found by its name: the runner that submitted it stopped before recording the job id`,
      );
      if (submitted.cancelRequested) {
        await this.executor.cancel(found.handle);
        this.host.settle(task.id, { state: 'cancelled' });
        return;
      }
      if (this.host.isRunning()) this.follow(submitted);
      void this.check(task.id);
    } catch (error) {
      if (store.isOpen) this.host.reportInternal(`looking up the Slurm job of ${task.id} by its name`, error);
    }
  }

  /** Follows a task's job from now on (after submitting it, or re-attached by its job id). */
  follow(task: Task): void {
    const jobId = task.slurm!.jobId;
    this.host.follow(task, jobId);
    this.byJob.set(jobId, task.id);
    this.poller.track(jobId);
    this.poller.start();
  }

  /** The runner let go of the task: its job is no longer polled for it. */
  forget(jobId: string): void {
    this.poller.untrack(jobId);
    this.byJob.delete(jobId);
  }

  dispose(): void {
    this.poller.dispose();
  }

  /**
   * Where a Slurm task's job stands: `fromQueue` is the poller's squeue line (null: squeue no longer
   * lists it; undefined: ask now). Queued and running are recorded on the row; an ended job is
   * settled, or resubmitted once when pre-emption or a lost node cut a training short.
   */
  async check(id: string, fromQueue?: QueueEntry | null): Promise<void> {
    if (this.checking.has(id)) return;
    this.checking.add(id);
    const { store, tasks, lifecycle } = this.host;
    try {
      const task = tasks.get(id);
      const ref = task.snapshot.slurm;
      if (isFinal(task.status) || !ref) {
        this.host.detach(id);
        return;
      }
      const live = await this.executor.assess(this.executor.reattach(ref, task.cancelRequested), taskFiles(store, id), fromQueue);
      if (!store.isOpen || isFinal(tasks.get(id).status)) return;
      if (live.phase === 'queued') {
        lifecycle.slurmState(id, 'PENDING', live.waiting.code, live.partition || null);
        if (live.failure) {
          await this.executor.client.cancel(ref.jobId).catch(() => undefined); // refused anyway: the sentence says why
          this.host.settle(id, { state: 'failed', message: live.failure });
        }
        return;
      }
      if (live.phase === 'running') {
        lifecycle.slurmState(id, 'RUNNING', null, null);
        this.host.readLog(id);
        return;
      }
      await this.ended(task, ref, live);
    } catch (error) {
      if (isUserErrorCode(error, 'no-task')) this.host.detach(id);
      else this.host.reportInternal(`checking the Slurm job of ${id}`, error);
    } finally {
      this.checking.delete(id);
    }
  }

  private async ended(task: Task, ref: SlurmJobRef, live: SlurmLiveness & { phase: 'ended' }): Promise<void> {
    this.host.lifecycle.slurmState(task.id, live.outcome === 'forgotten' ? 'UNKNOWN' : live.outcome.toUpperCase(), null, null);
    const reached = this.trainingReached(task);
    if (resubmittable(task, ref, live)) {
      await this.resubmit(task, ref, live.outcome, reached);
      return;
    }
    const sentence = this.executor.explain(ref, live, task.stepType, reached);
    this.host.settle(
      task.id,
      sentence
        ? { state: 'jobEnded', sentence, exit: live.exit }
        : live.exit
          ? { state: 'exited', exit: live.exit }
          : { state: 'failed', message: `Slurm job ${ref.jobId} ended without the step recording its exit; see ${ref.slurmOut}.` },
    );
  }

  private async resubmit(task: Task, ref: SlurmJobRef, outcome: string, reached: { epoch?: number; checkpoint?: string }): Promise<void> {
    const { store, lifecycle } = this.host;
    const files = taskFiles(store, task.id);
    // The pre-empted launcher's exit record (with its signal) must not decide the new job's end.
    fs.rmSync(files.exit, { force: true });
    const handle = await this.executor.start({
      taskId: task.id,
      step: task.stepType,
      gpuBound: task.gpuId !== null,
      files,
      plan: task.snapshot.plan!,
    });
    if (!store.isOpen) return;
    const job: SlurmJobRef = { ...handle, resubmittedFrom: ref.jobId };
    const resubmitted = lifecycle.resubmitted(task, job);
    const at = reached.epoch !== undefined ? ` at epoch ${reached.epoch}` : '';
    const from = reached.checkpoint ? `; training continues from ${reached.checkpoint}` : '';
    lifecycle.note(
      task.id,
      'WARN',
      `Slurm job ${ref.jobId} ended ${outcome.toUpperCase()}${at}; resubmitted once as job ${job.jobId}${from}.`,
    );
    this.forget(ref.jobId);
    if (!this.host.retarget(resubmitted, job.jobId)) return;
    this.byJob.set(job.jobId, task.id);
    this.poller.track(job.jobId);
    if (resubmitted.cancelRequested) await this.executor.cancel(handle); // the next check settles it as cancelled
  }

  /** For Slurm's sentence: the last epoch in the step's log and the checkpoint a rerun resumes from. */
  private trainingReached(task: Task): { epoch?: number; checkpoint?: string } {
    if (task.stepType !== 'train_model') return {};
    const known: { epoch?: number; checkpoint?: string } = {};
    const epoch = [...readFileTail(taskFiles(this.host.store, task.id).log).matchAll(/Epoch:?\s*(\d+)/g)].at(-1)?.[1];
    if (epoch !== undefined) known.epoch = Number(epoch);
    let names: string[];
    try {
      names = fs.readdirSync(task.snapshot.training.logsDir);
    } catch {
      return known; // no logs folder yet: nothing to resume from
    }
    const steps = names
      .map((f) => /^G_(\d+)\.pth$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number);
    if (steps.length > 0) known.checkpoint = `G_${Math.max(...steps)}.pth`;
    return known;
  }
}

/**
 * A training whose job Slurm pre-empted or lost with its node (and that did not finish first) is
 * submitted again, once: RVC resumes from the latest G_*.pth of the same experiment name.
 */
function resubmittable(task: Task, ref: SlurmJobRef, live: SlurmLiveness & { phase: 'ended' }): boolean {
  return (
    task.stepType === 'train_model' &&
    (live.outcome === 'preempted' || live.outcome === 'node_fail') &&
    ref.resubmittedFrom === undefined &&
    !task.cancelRequested &&
    !(live.exit && live.exit.signal === null)
  );
}
