import * as fs from 'node:fs';
import type { Store } from '../store/store.ts';
import { taskFiles } from './processes.ts';
import { ProgressTracker } from './progress.ts';
import type { Task, TaskRepository } from '../store/taskRepository.ts';

/** Read a log that jumped far ahead in pieces, so one read never holds a huge buffer. */
const MAX_READ_BYTES = 4 << 20;

export interface TaskLogChunk {
  lines: string[];
  /** The byte range of the log these lines came from. */
  from: number;
  to: number;
}

/**
 * The one incremental reader of a task's captured stdout+stderr (<tasks>/<id>.log). Each chunk's
 * notable lines, progress and the new read position are committed together, and only if the stored
 * position is still where this reader started, so two processes tailing the same task (a runner and
 * a `db check --repair`) never store a line twice.
 */
export class TaskLogTail {
  readonly task: Task;
  readonly tracker: ProgressTracker;
  private offset: number;
  private readonly store: Store;
  private readonly tasks: TaskRepository;

  constructor(store: Store, tasks: TaskRepository, task: Task) {
    this.store = store;
    this.tasks = tasks;
    this.task = task;
    this.offset = task.logOffset;
    const params = task.snapshot.params as Record<string, unknown>;
    this.tracker = new ProgressTracker(
      task.stepType,
      { totalEpoch: Number(params.total_epoch) || 1, datasetFiles: (task.snapshot.plan?.expect.audio as string[] | undefined)?.length },
      { progress: task.progress, at: Date.now() },
    );
  }

  get position(): number {
    return this.offset;
  }

  /**
   * Reads what the log gained; only whole lines until `final`. Returns the chunks committed (empty
   * when there was nothing new or another reader got further first).
   */
  read(final = false): TaskLogChunk[] {
    const chunks: TaskLogChunk[] = [];
    let fd: number;
    try {
      fd = fs.openSync(taskFiles(this.store, this.task.id).log, 'r');
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
        if (!final && !full) {
          const lastNewline = Math.max(chunk.lastIndexOf(0x0a), chunk.lastIndexOf(0x0d));
          if (lastNewline < 0) return chunks;
          chunk = chunk.subarray(0, lastNewline + 1);
        }
        const lines = chunk.toString('utf8').split(/\r?\n|\r/);
        if (lines[lines.length - 1] === '') lines.pop();
        const update = this.tracker.feed(lines);
        const from = this.offset;
        const to = from + chunk.length;
        const stored = this.tasks.recordLog(this.task.id, {
          fromOffset: from,
          logOffset: to,
          progress: update.progress,
          etaMs: update.etaMs,
          lines: update.notable,
        });
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
        if (update.progress !== undefined)
          this.store.events.emit('taskChanged', { taskId: this.task.id, trainingId: this.task.trainingId });
        if (!full) return chunks;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
