import type { Settings } from '../../settings.ts';
import type { SlurmJobRef } from '../taskSnapshot.ts';
import { msg, UserError } from '../../util/errors.ts';
import type { LaunchProcess } from '../launcherWorker.ts';
import { launcherScript, readJsonFile, type ExitRecord, type TaskFiles } from '../processes.ts';
import type { StepType } from '../../store/vocabulary.ts';
import { jobName, jobResources, jobScriptFiles, sbatchLines, writeJobScript } from './jobScript.ts';
import { assessJob, explainJobEnd, type JobOutcome, type PendingReason } from './jobState.ts';
import { probeSharedFilesystem } from './sharedFsProbe.ts';
import type { QueueEntry, SlurmClient } from './slurmClient.ts';

/** What the runner hands an executor: one step's processes and the task's files. */
export interface ExecutorPlan {
  taskId: string;
  step: StepType;
  gpuBound: boolean;
  files: TaskFiles;
  plan: { cwd: string; processes: LaunchProcess[] };
}

/** Stored on the task (config_snapshot + a column), enough to re-attach after a reload. */
export type SlurmHandle = SlurmJobRef;

/** Liveness as the lifecycle's assess() needs it. */
export type SlurmLiveness =
  | { phase: 'queued'; jobId: string; waiting: PendingReason; partition: string; failure?: string }
  | { phase: 'running'; jobId: string; nodes: string }
  | {
      phase: 'ended';
      jobId: string;
      outcome: JobOutcome | 'forgotten';
      exit: ExitRecord | undefined;
      nodes: string;
      timeLimitMinutes: number | null;
      exitCode: number | null;
    };

export interface SlurmExecutorOptions {
  client: SlurmClient;
  settings: () => Settings;
  /** Node and launcher as the compute nodes see them; default: this process's own. */
  nodePath?: string;
  launcherPath?: string;
  /** Submit the shared-filesystem probe before the first job of each tasks folder (default true). */
  probe?: boolean;
  probeTimeoutMs?: number;
}

/**
 * Runs a step as one Slurm batch job: the same launcher as a local run, started by Slurm on a
 * compute node. The step's log and exit record land in .rvc-studio/tasks/ as they do locally;
 * Slurm adds the job's queue state and, when it ends the job itself, why.
 */
export class SlurmExecutor {
  private readonly checkedPartitions = new Set<string>();
  private readonly probedDirs = new Set<string>();
  private readonly cancelled = new Set<string>();
  private readonly options: SlurmExecutorOptions;
  constructor(options: SlurmExecutorOptions) {
    this.options = options;
  }

  get client(): SlurmClient {
    return this.options.client;
  }

  /** Checks what can fail at once (partition, shared filesystem), writes the job script and submits it. */
  async start(plan: ExecutorPlan): Promise<SlurmHandle> {
    const settings = this.options.settings();
    const resources = jobResources(settings, plan.step, plan.gpuBound); // validates before anything is written
    if (!this.checkedPartitions.has(resources.partition)) {
      await this.client.checkPartition(resources.partition);
      this.checkedPartitions.add(resources.partition);
    }
    if ((this.options.probe ?? true) && !this.probedDirs.has(plan.files.dir)) {
      const lines = sbatchLines(plan, { ...resources, gpus: 0, cpus: null, mem: '', extraArgs: [] }, '/dev/null').filter((line) =>
        /--(partition|account|qos)=/.test(line),
      );
      await probeSharedFilesystem(this.client, {
        dir: plan.files.dir,
        sbatchLines: lines,
        setup: resources.setup,
        timeoutMs: this.options.probeTimeoutMs ?? 120_000,
      });
      this.probedDirs.add(plan.files.dir);
    }
    const written = writeJobScript({
      ...plan,
      settings,
      nodePath: this.options.nodePath ?? process.execPath,
      launcherPath: this.options.launcherPath ?? launcherScript(),
    });
    const jobId = await this.client.submit(written.script);
    return { executor: 'slurm', jobId, submittedAt: Date.now(), script: written.script, slurmOut: written.slurmOut };
  }

  /**
   * A task whose runner stopped between sbatch and recording the job id: its job, found by its
   * name (one squeue call), or undefined when Slurm has no job of that name (it was never
   * submitted, or ended and was forgotten). Of several, the newest: an older one can only be a
   * stale job of another task with the same id prefix.
   */
  async findSubmitted(taskId: string, step: StepType, files: TaskFiles): Promise<{ handle: SlurmHandle; entry: QueueEntry } | undefined> {
    const entries = await this.client.queueByName(jobName(step, taskId));
    const entry = entries.sort((a, b) => Number.parseInt(b.jobId, 10) - Number.parseInt(a.jobId, 10))[0];
    if (!entry) return undefined;
    const { script, slurmOut } = jobScriptFiles(files, taskId);
    return { handle: { executor: 'slurm', jobId: entry.jobId, submittedAt: Date.now(), script, slurmOut }, entry };
  }

  /**
   * Where the job stands. `fromQueue` is the poller's squeue line for it (undefined: ask Slurm now);
   * the full `scontrol show job` is read only once the job has ended.
   */
  async assess(handle: SlurmHandle, files: TaskFiles, fromQueue?: QueueEntry | null): Promise<SlurmLiveness> {
    const { jobId } = handle;
    const entry = fromQueue === undefined ? (await this.client.queue([jobId])).get(jobId) : (fromQueue ?? undefined);
    const exit = (): ExitRecord | undefined => readJsonFile<ExitRecord>(files.exit);
    if (entry) {
      const a = assessJob(entry.state, entry.reason);
      if (a.phase === 'queued') {
        const waiting = a.waiting!;
        return {
          phase: 'queued',
          jobId,
          waiting,
          partition: entry.partition,
          ...(waiting.stuck ? { failure: `Slurm job ${jobId} cannot start: ${waiting.text}.` } : {}),
        };
      }
      if (a.phase === 'running' || a.phase === 'unknown') return { phase: 'running', jobId, nodes: entry.nodes };
    }
    const details = await this.client.show(jobId);
    if (!details)
      return {
        phase: 'ended',
        jobId,
        outcome: 'forgotten',
        exit: exit(),
        nodes: entry?.nodes ?? '',
        timeLimitMinutes: null,
        exitCode: null,
      };
    const a = assessJob(details.state, details.reason);
    if (a.phase === 'queued') return { phase: 'queued', jobId, waiting: a.waiting!, partition: details.partition };
    if (a.phase !== 'ended') return { phase: 'running', jobId, nodes: details.nodes };
    return {
      phase: 'ended',
      jobId,
      outcome: a.outcome!,
      exit: exit(),
      nodes: details.nodes,
      timeLimitMinutes: details.timeLimitMinutes,
      exitCode: details.exitCode,
    };
  }

  /**
   * The sentence for a job Slurm ended (TIMEOUT, NODE_FAIL, …), or undefined when the step's exit
   * record and outputs decide. epoch and checkpoint come from the caller, who reads the training.
   */
  explain(
    handle: SlurmHandle,
    liveness: SlurmLiveness & { phase: 'ended' },
    step: StepType,
    known: { epoch?: number; checkpoint?: string } = {},
  ): string | undefined {
    if (liveness.outcome === 'forgotten') {
      return liveness.exit ? undefined : `Slurm no longer knows job ${handle.jobId} and it left no exit record; see ${handle.slurmOut}.`;
    }
    // A job that ran the launcher to its end is judged by the exit record like a local run; Slurm's
    // FAILED then only means the launcher's own exit, which is always 0.
    if (liveness.outcome === 'completed' || (liveness.outcome === 'failed' && liveness.exit)) return undefined;
    const mem = String(this.options.settings()['slurm.mem'][step] ?? '') || undefined;
    return explainJobEnd(liveness.outcome, {
      jobId: handle.jobId,
      step,
      nodes: liveness.nodes,
      timeLimitMinutes: liveness.timeLimitMinutes,
      exitCode: liveness.exitCode,
      slurmOut: handle.slurmOut,
      cancelledByUs: this.cancelled.has(handle.jobId),
      ...(mem ? { mem } : {}),
      ...known,
    });
  }

  /**
   * scancel, then wait until Slurm reports the job ended (a pending job ends at once; a running one
   * after its launcher recorded the signal, or KillWait later).
   */
  async cancel(handle: SlurmHandle, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<void> {
    this.cancelled.add(handle.jobId);
    await this.client.cancel(handle.jobId);
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      const entry = (await this.client.queue([handle.jobId])).get(handle.jobId);
      if (!entry || assessJob(entry.state).phase === 'ended') return;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 200));
    }
    throw new UserError(
      msg`Slurm job ${handle.jobId} is still running after scancel; check it with squeue -j ${handle.jobId}.`,
      'slurm-cancel',
    );
  }

  /** After a reload: the handle comes back from the task's snapshot; mark our own cancels again. */
  reattach(handle: SlurmHandle, cancelRequested: boolean): SlurmHandle {
    if (cancelRequested) this.cancelled.add(handle.jobId);
    return handle;
  }
}
