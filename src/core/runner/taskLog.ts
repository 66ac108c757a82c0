import * as fs from 'node:fs';
import type { Store } from '../store/store.ts';
import { taskFiles } from './processes.ts';
import { ProgressTracker } from './progress.ts';
import type { TaskWriter } from '../store/taskRepository.ts';
import { plannedAudio } from './steps/preprocess.ts';
import type { Task, TaskSnapshot } from './taskSnapshot.ts';
import { recordStdoutMetrics } from '../metrics/metricsIngester.ts';
import { fillEpochs } from '../metrics/epochs.ts';
import type { MetricPoint } from '../metrics/metricPoint.ts';

/** Read a log that jumped far ahead in pieces, so one read never holds a huge buffer. */
const MAX_READ_BYTES = 4 << 20;

/** What a tail commits through: the lifecycle's writer (TaskLifecycle.logTail makes the tails). */
export type TaskLogSink = Pick<TaskWriter<TaskSnapshot>, 'get' | 'recordLog'>;

export interface TaskLogChunk {
  lines: string[];
  /** The byte range of the log these lines came from. */
  from: number;
  to: number;
}

/**
 * The one incremental reader of a task's captured stdout+stderr (<tasks>/<id>.log). Each chunk's
 * notable lines, progress, curve points (train_model: RVC prints its losses there) and the new read
 * position are committed together, and only if the stored position is still where this reader
 * started, so two processes tailing the same task (a runner and a `db check --repair`) never store
 * a line or a point twice.
 */
export class TaskLogTail {
  readonly task: Task;
  readonly tracker: ProgressTracker;
  private offset: number;
  private readonly store: Store;
  private readonly tasks: TaskLogSink;

  constructor(store: Store, tasks: TaskLogSink, task: Task) {
    this.store = store;
    this.tasks = tasks;
    this.task = task;
    this.offset = task.logOffset;
    this.tracker = new ProgressTracker(
      task.stepType,
      { totalEpoch: Number(task.snapshot.params.total_epoch) || 1, datasetFiles: plannedAudio(task.snapshot.plan)?.length },
      // The ETA extrapolates from the stored progress and when it was stored (the row's last write): a
      // runner re-attaching reads at once what was logged while none ran, and from "now" that catch-up
      // would look instantaneous (an ETA of seconds for minutes of training left).
      { progress: task.progress, at: task.updatedAt },
    );
  }

  /**
   * Reads what the log gained; only whole lines until `final`. Returns the chunks committed (empty
   * when there was nothing new or another reader got further first).
   */
  read(final = false): TaskLogChunk[] {
    const chunks: TaskLogChunk[] = [];
    const logFile = taskFiles(this.store, this.task.id).log;
    let fd: number;
    try {
      fd = fs.openSync(logFile, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return chunks; // the launcher has not created it yet
      throw error;
    }
    try {
      for (;;) {
        const size = fs.fstatSync(fd).size;
        if (size <= this.offset) return chunks;
        const buffer = Buffer.alloc(Math.min(size - this.offset, MAX_READ_BYTES));
        let chunk = buffer.subarray(0, fs.readSync(fd, buffer, 0, buffer.length, this.offset));
        const full = chunk.length === MAX_READ_BYTES;
        if (!final) {
          // Whole lines only, also when a big jump is read in pieces: a loss line cut in two would be lost.
          const lastNewline = Math.max(chunk.lastIndexOf(0x0a), chunk.lastIndexOf(0x0d));
          if (lastNewline >= 0) chunk = chunk.subarray(0, lastNewline + 1);
          else if (!full) return chunks; // the line is still being written
        }
        const lines = chunk.toString('utf8').split(/\r?\n|\r/);
        if (lines[lines.length - 1] === '') lines.pop();
        const update = this.tracker.feed(lines);
        const from = this.offset;
        const to = from + chunk.length;
        let points: MetricPoint[] = [];
        const stored = this.tasks.recordLog(
          this.task.id,
          { fromOffset: from, logOffset: to, progress: update.progress, etaMs: update.etaMs, lines: update.notable },
          this.task.stepType === 'train_model'
            ? () => (points = recordStdoutMetrics(this.store, this.task.trainingId, logFile, { from, to, lines }))
            : undefined,
        );
        if (!stored) {
          // Another reader committed this range: continue from where it is.
          const now = this.tasks.get(this.task.id).logOffset;
          if (now <= this.offset) return chunks;
          this.offset = now;
          continue;
        }
        this.offset = to;
        chunks.push({ lines, from, to });
        this.store.events.emit('taskLog', { taskId: this.task.id, lines });
        if (points.length > 0) {
          fillEpochs(this.store, this.task.trainingId);
          this.store.events.emit('metricsAppended', { trainingId: this.task.trainingId, points });
        }
        if (update.progress !== undefined)
          this.store.events.emit('taskChanged', { taskId: this.task.id, trainingId: this.task.trainingId });
        if (!full) return chunks;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
