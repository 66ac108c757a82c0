import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultSettings, type Settings } from '../settings.ts';
import type { Store } from '../store/store.ts';
import { TrainingRepository, trainingLogsDir } from '../store/trainings.ts';
import { errorMessage } from '../util/errors.ts';
import { readFileTail } from '../util/fileTail.ts';
import { isInside, resolveInside } from '../util/paths.ts';
import { commandEngine } from './commandEngine.ts';
import type { Engine, StepContext } from './engine.ts';
import {
  findLauncher,
  groupAlive,
  launcherAlive,
  processAlive,
  readExitRecord,
  readStartedRecord,
  signalGroup,
  taskFiles,
  type ExitRecord,
} from './processes.ts';
import { lastErrorLines } from './progress.ts';
import { rvcEngine } from './rvcEngine.ts';
import { isFinal } from '../store/vocabulary.ts';
import { TaskLogTail } from './taskLog.ts';
import { TaskWriter, type ClaimLimits, type NewTask, type TaskLogLevel } from '../store/taskRepository.ts';
import { stagedFolder } from './steps/preprocess.ts';
import { taskReader, taskSnapshotCodec, type SlurmJobRef, type Task, type TaskReader, type TaskSnapshot } from './taskSnapshot.ts';
import { extractionComplete, trainingPatchFor, type StepOutcome } from './trainingState.ts';

export const ENGINES: Record<'rvc' | 'command', Engine> = { rvc: rvcEngine, command: commandEngine };

/**
 * What is known about a running task from outside it:
 * - alive: its launcher runs (checked by pid and command line), or the runner that claimed it is
 *   alive and still starting it;
 * - exited: the launcher wrote its exit record (the step ended; nobody may have recorded it yet);
 * - gone: neither: the launcher was killed or never started, and no live runner is starting it;
 * - foreign: claimed by a runner on another host (a shared folder): not ours to judge.
 */
export type Assessment =
  | { state: 'alive'; pid: number | null }
  | { state: 'exited'; exit: ExitRecord }
  | { state: 'gone'; pid: number | null; reason: string }
  | { state: 'foreign'; claimedBy: string };

/**
 * How a task is to end: what assess() found, a cancel, a failure before its launcher started, or a
 * Slurm job that Slurm itself ended (TIMEOUT, NODE_FAIL, …): its sentence, and the exit record if
 * the launcher wrote one.
 */
export type Outcome =
  | Assessment
  | { state: 'cancelled' }
  | { state: 'failed'; message: string }
  | { state: 'jobEnded'; sentence: string; exit: ExitRecord | undefined };

export interface Settled {
  task: Task;
  /** Later steps of its chain that were cancelled with it. */
  cancelledChain: Task[];
}

/** Runner ids of the runners alive in this process (tests and the extension may run several). */
const liveRunners = new Set<string>();

export function registerLiveRunner(runnerId: string): void {
  liveRunners.add(runnerId);
}

export function unregisterLiveRunner(runnerId: string): void {
  liveRunners.delete(runnerId);
}

/** A runner is alive if it is one of ours, or its process on this host still exists. */
export function runnerAlive(claimedBy: string | null): boolean {
  if (!claimedBy) return false;
  if (liveRunners.has(claimedBy)) return true;
  const [host, pidText] = claimedBy.split(':');
  const pid = Number(pidText);
  if (host !== os.hostname()) return true;
  if (pid === process.pid) return false; // a runner of this process that has stopped
  return Number.isInteger(pid) && pid > 0 && processAlive(pid);
}

function isForeign(claimedBy: string | null): claimedBy is string {
  return claimedBy !== null && claimedBy.split(':')[0] !== os.hostname();
}

/** The transitions a fault-injection test can stop a process at. */
export type FaultPoint = 'claimed' | 'spawned' | 'launched' | 'exited' | 'settling';

export interface LifecycleOptions {
  /** For judging outputs; the CLI reads the workspace's settings, db check may use the defaults. */
  settings?: () => Settings;
  /** Called inside the settling transaction, after the final status is written (fault-injection tests). */
  faultPoint?: (point: FaultPoint, task: Task) => void;
}

/**
 * The only code that moves a training_tasks row between states (queued → running → success |
 * failed | cancelled), and the only holder of the rows' writer: everyone else gets `tasks`, the
 * read half. The runner, reattach and its sweep, cancel, retry, `db check --repair` and the VS Code
 * side all go through it, so a task's end is judged one way — by its exit record and the files the
 * step wrote — and recorded exactly once (the final UPDATE is conditional on the row still being
 * unfinished, and settling commits the task, its chain and its training together).
 */
export class TaskLifecycle {
  readonly store: Store;
  readonly tasks: TaskReader;
  readonly trainings: TrainingRepository;
  private readonly writer: TaskWriter<TaskSnapshot>;
  private readonly settings: () => Settings;
  private readonly faultPoint: ((point: FaultPoint, task: Task) => void) | undefined;

  constructor(store: Store, options: LifecycleOptions = {}) {
    this.store = store;
    this.tasks = taskReader(store);
    this.writer = new TaskWriter(store, taskSnapshotCodec);
    this.trainings = new TrainingRepository(store);
    this.settings = options.settings ?? defaultSettings;
    this.faultPoint = options.faultPoint;
  }

  engineOf(task: Task): Engine {
    return ENGINES[task.snapshot.engine] ?? rvcEngine;
  }

  context(task: Task, settings: Settings = this.settings()): StepContext {
    const training = this.trainings.get(task.trainingId);
    const logsDir = task.snapshot.training.logsDir || trainingLogsDir(this.store, training);
    return {
      store: this.store,
      settings,
      training,
      taskId: task.id,
      step: task.stepType,
      params: task.snapshot.params,
      logsDir,
      device: () => {
        throw new Error('the device is not needed to judge a step');
      },
    };
  }

  /** New tasks, queued; a retry's snapshot loses its predecessor's Slurm job (it gets a job of its own). */
  enqueue(tasks: Omit<NewTask<TaskSnapshot>, 'executor'>[]): Task[] {
    return this.writer.insert(
      tasks.map((task) => {
        const { slurm: _job, ...snapshot } = task.snapshot;
        return { ...task, snapshot, executor: snapshot.executor ?? 'local' };
      }),
    );
  }

  /** queued → running, atomically across processes. */
  claim(runnerId: string, limits: ClaimLimits): Task | undefined {
    return this.writer.claimNext(runnerId, limits);
  }

  /** Planned: the plan is durable before anything is spawned (a runner killed right after spawning leaves it judgeable). */
  planned(task: Task, snapshot: TaskSnapshot): Task {
    return this.writer.savePlan(task.id, snapshot);
  }

  /** The launcher started: its pid, the log and the final plan are recorded, and the training moves on. */
  launched(task: Task, pid: number, snapshot: TaskSnapshot): Task {
    const launched = this.writer.markLaunched(task.id, pid, taskFiles(this.store, task.id).log, snapshot);
    this.applyTrainingState(launched, 'started', {});
    return launched;
  }

  /** Its Slurm batch job was accepted: the job id is recorded (column and snapshot) and the training moves on. */
  submitted(task: Task, job: SlurmJobRef, partition: string, snapshot: TaskSnapshot): Task {
    const log = taskFiles(this.store, task.id).log;
    const submitted = this.writer.markSubmitted(task.id, job.jobId, partition, log, { ...snapshot, slurm: job });
    this.applyTrainingState(submitted, 'started', {});
    return submitted;
  }

  /** A new batch job replaces a pre-empted one: the task stays running, its log is read on from where it was. */
  resubmitted(task: Task, job: SlurmJobRef): Task {
    return this.writer.markResubmitted(task.id, job.jobId, { ...task.snapshot, slurm: job });
  }

  /** Slurm's state and reason for the task's job (PENDING and why, RUNNING, …); false when unchanged. */
  slurmState(id: string, state: string, reason: string | null, partition: string | null): boolean {
    return this.writer.recordSlurmState(id, state, reason, partition);
  }

  /** Takes over a running task whose runner died; false when another live runner got there first. */
  adopt(task: Task, runnerId: string): boolean {
    if (task.claimedBy === runnerId) return true;
    return this.writer.adopt(task.id, task.claimedBy, runnerId);
  }

  /** Marks the task to be cancelled: whoever launches or settles it next sees the request. */
  requestCancel(task: Task): void {
    this.writer.requestCancel(task.id);
  }

  /** One line in the task's notable log (what the runner did about it, not what the step printed). */
  note(id: string, level: TaskLogLevel, message: string): void {
    this.writer.addLog(id, level, message);
  }

  /** The reader of the task's captured output, committing through the writer. */
  logTail(task: Task): TaskLogTail {
    return new TaskLogTail(this.store, this.writer, task);
  }

  /**
   * Where a running task stands, from the runner's claim, the launcher's pid and command line, and
   * the started and exit records. `self` is the asking runner: its own claim is never "alive" by
   * itself (it knows whether it is still launching).
   */
  assess(task: Task, self?: string): Assessment {
    const exit = readExitRecord(this.store, task.id);
    if (exit) return { state: 'exited', exit };
    if (isForeign(task.claimedBy)) return { state: 'foreign', claimedBy: task.claimedBy };
    // Its launcher runs on a compute node: no pid here means nothing; Slurm (the runner's poller) judges it.
    if (task.slurm !== null) return { state: 'alive', pid: null };
    let pid = task.pid ?? readStartedRecord(this.store, task.id)?.launcherPid ?? null;
    // Killed between spawning the launcher and recording its pid: find it by its command line.
    pid ??= findLauncher(taskFiles(this.store, task.id).spec);
    if (pid !== null && launcherAlive(pid, task.id)) return { state: 'alive', pid };
    // The launcher may have written its record just before it exited.
    const late = readExitRecord(this.store, task.id);
    if (late) return { state: 'exited', exit: late };
    if (pid === null) {
      if (task.claimedBy !== self && runnerAlive(task.claimedBy)) return { state: 'alive', pid: null };
      return { state: 'gone', pid: null, reason: 'the runner stopped before the step started' };
    }
    return { state: 'gone', pid, reason: groupAlive(pid) ? 'its launcher was killed' : 'its process is gone' };
  }

  /** A queued task cancelled before anything ran; false when it had already started or ended. */
  cancelQueued(task: Task, reason = 'cancelled by the user'): Settled | undefined {
    return this.store.transaction(() => {
      if (!this.writer.finishIf(task.id, 'queued', { status: 'cancelled', errorMsg: reason })) return undefined;
      const finished = this.tasks.get(task.id);
      return {
        task: finished,
        cancelledChain: this.writer.cancelRestOfChain(finished, `cancelled: ${task.stepType} before it in the chain was cancelled`),
      };
    });
  }

  /**
   * Records how a task ended, once: judged by its exit record and outputs (an exited step), as
   * cancelled when a cancel was asked for, as "interrupted" when it is gone. Reads the rest of its
   * log into task_logs first. Later steps of its chain are cancelled unless it succeeded (then the
   * next one is free to be claimed). Returns undefined when the task had already ended (another
   * process settled it) or is not to be settled (alive, foreign).
   */
  settle(task: Task, outcome: Outcome, tail?: TaskLogTail): Settled | undefined {
    if (outcome.state === 'alive' || outcome.state === 'foreign') return undefined;
    const current = this.tasks.get(task.id);
    if (isFinal(current.status)) return undefined;
    if (outcome.state === 'gone' && outcome.pid !== null && groupAlive(outcome.pid)) {
      // The launcher is dead but the step's processes run on with nobody to record their end.
      signalGroup(outcome.pid, 'SIGKILL');
    }
    try {
      (tail ?? this.logTail(current)).read(true);
    } catch (error) {
      this.store.log('WARN', 'trainer', `could not read the rest of the log of ${task.id}: ${errorMessage(error)}`);
    }
    const verdict = this.verdict(current, outcome);
    this.removeStaging(current);
    const settled = this.store.transaction((): Settled | undefined => {
      const won = this.writer.finish(current.id, {
        status: verdict.status,
        errorMsg: verdict.errorMsg,
        exitCode: verdict.exit?.code ?? null,
        exitSignal: verdict.exit?.signal ?? null,
        progress: verdict.status === 'success' ? 100 : null,
      });
      if (!won) return undefined;
      for (const warning of verdict.warnings) this.writer.addLog(current.id, 'WARN', warning);
      if (verdict.errorMsg && verdict.status === 'failed') this.writer.addLog(current.id, 'ERROR', verdict.errorMsg.split('\n')[0]!);
      const finished = this.tasks.get(current.id);
      this.faultPoint?.('settling', finished);
      if (current.pid !== null || current.slurm !== null || outcome.state === 'exited')
        this.applyTrainingState(finished, verdict.status, { resultModelPath: verdict.resultModelPath });
      const cancelledChain =
        verdict.status === 'success'
          ? []
          : this.writer.cancelRestOfChain(
              finished,
              `cancelled: ${finished.stepType} before it in the chain ${verdict.status === 'cancelled' ? 'was cancelled' : 'failed'}`,
            );
      return { task: finished, cancelledChain };
    });
    return settled;
  }

  private verdict(
    task: Task,
    outcome: Exclude<Outcome, { state: 'alive' } | { state: 'foreign' }>,
  ): {
    status: 'success' | 'failed' | 'cancelled';
    errorMsg: string | null;
    exit?: ExitRecord | undefined;
    warnings: string[];
    resultModelPath?: string | undefined;
  } {
    const exit = outcome.state === 'exited' || outcome.state === 'jobEnded' ? outcome.exit : undefined;
    if (outcome.state === 'cancelled' || task.cancelRequested)
      return { status: 'cancelled', errorMsg: 'cancelled by the user', exit, warnings: [] };
    if (outcome.state === 'failed') return { status: 'failed', errorMsg: outcome.message, warnings: [] };
    const logTail = readFileTail(taskFiles(this.store, task.id).log);
    if (outcome.state === 'jobEnded')
      return { status: 'failed', errorMsg: [outcome.sentence, ...lastErrorLines(logTail, 4)].join('\n'), exit, warnings: [] };
    if (outcome.state === 'gone') {
      const head =
        task.pid === null && outcome.pid === null ? `interrupted (process gone): ${outcome.reason}` : 'interrupted (process gone)';
      return { status: 'failed', errorMsg: [head, ...lastErrorLines(logTail, 4)].join('\n'), warnings: [] };
    }
    try {
      const plan = task.snapshot.plan;
      if (!plan) return { status: 'failed', errorMsg: 'the task has no launch plan', exit, warnings: [] };
      const judgement = this.engineOf(task).judge(this.context(task), plan, outcome.exit, logTail, task.startedAt ?? 0);
      return {
        status: judgement.ok ? 'success' : 'failed',
        errorMsg: judgement.error ?? null,
        exit,
        warnings: judgement.warnings,
        resultModelPath: judgement.resultModelPath,
      };
    } catch (error) {
      return { status: 'failed', errorMsg: `could not check the step's outputs: ${errorMessage(error)}`, exit, warnings: [] };
    }
  }

  /** The folder of links preprocess read instead of a dataset with hidden folders is not needed afterwards. */
  private removeStaging(task: Task): void {
    const staged = stagedFolder(task.snapshot.plan);
    if (staged === undefined) return;
    const stagingRoot = resolveInside(this.store.storeDir, 'staging');
    if (isInside(stagingRoot, staged) && path.resolve(staged) !== stagingRoot) fs.rmSync(staged, { recursive: true, force: true });
  }

  private applyTrainingState(task: Task, outcome: StepOutcome, facts: { resultModelPath?: string | undefined }): void {
    const training = this.trainings.get(task.trainingId);
    const params = task.snapshot.params;
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
  }
}
