import type { Store } from '../store/store.ts';
import { TaskRepository, type SnapshotCodec, type StoredTask } from '../store/taskRepository.ts';
import type { RunParams } from './params.ts';

/** Everything a task was started with, kept so a retry repeats it and a model can be traced back. */
export interface TaskSnapshot {
  engine: 'rvc' | 'command';
  /** Every parameter, by the WebUI's names (total_epoch, batch_size, …), after settings and --set. */
  params: RunParams;
  /** Filled in when the task launches: the exact processes, working folder and environment. */
  plan?: TaskPlan;
  training: { name: string; logsDir: string };
  /** Where it runs (rvcStudio.runner.executor when it was queued); absent: local. */
  executor?: 'local' | 'slurm';
  /** Set once its batch job is submitted: what a new runner re-attaches by. */
  slurm?: SlurmJobRef;
}

/** A Slurm task's batch job, as kept in config_snapshot (the id is also a column). */
export interface SlurmJobRef {
  executor: 'slurm';
  jobId: string;
  submittedAt: number;
  script: string;
  slurmOut: string;
  /** The pre-empted (or node-failed) job this one replaces: a task is resubmitted once at most. */
  resubmittedFrom?: string;
}

export interface TaskProcess {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

export interface TaskPlan {
  cwd: string;
  processes: TaskProcess[];
  device: { device: string; isHalf: boolean; source: string };
  /**
   * Facts the output check needs (dataset entries, the weights file expected, …), as the step that
   * planned them wrote them; each step module reads its own back (steps/*.ts `readExpect`).
   */
  expect: Readonly<Record<string, unknown>>;
}

/** A training_tasks row with its snapshot read back as the runner wrote it. */
export type Task = StoredTask<TaskSnapshot>;

/** Read-only access to the queue's rows; writing them is TaskLifecycle's alone. */
export type TaskReader = TaskRepository<TaskSnapshot>;

/**
 * config_snapshot as JSON text. Rows are written only through encode (by TaskLifecycle), so decode
 * reads them back as the runner wrote them; the schema's json_valid check keeps the text JSON, and
 * an older or hand-made row ('{}', the column's default) reads as it always did: field by field,
 * whatever is there.
 */
export const taskSnapshotCodec: SnapshotCodec<TaskSnapshot> = {
  encode: (snapshot) => JSON.stringify(snapshot),
  decode: (json) => {
    const snapshot: TaskSnapshot = JSON.parse(json);
    return snapshot;
  },
};

/** The queue's rows, read-only, typed with the runner's snapshot. */
export function taskReader(store: Store): TaskReader {
  return new TaskRepository(store, taskSnapshotCodec);
}
