import { randomUUID } from 'node:crypto';
import { prepared, type Store } from './store.ts';
import { msg, UserError } from '../util/errors.ts';
import { nowMs } from '../util/time.ts';
import type { StepType, TaskStatus } from './vocabulary.ts';

export type TaskLogLevel = 'INFO' | 'WARN' | 'ERROR';

/** Slurm's view of a task's job, as the poller last saw it (PENDING and its reason, RUNNING, …). */
export interface SlurmJobState {
  jobId: string;
  state: string | null;
  reason: string | null;
  partition: string | null;
}

/**
 * How config_snapshot's owner (the runner) turns its snapshot into the column's JSON text and back:
 * the store keeps the text without knowing its shape.
 */
export interface SnapshotCodec<S> {
  encode(snapshot: S): string;
  decode(json: string, taskId: string): S;
}

/** A training_tasks row; `snapshot` is config_snapshot as the codec decodes it. */
export interface StoredTask<S> {
  id: string;
  trainingId: string;
  stepType: StepType;
  status: TaskStatus;
  pid: number | null;
  snapshot: S;
  errorMsg: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  progress: number | null;
  etaMs: number | null;
  gpuId: string | null;
  chainId: string | null;
  chainSeq: number | null;
  retryOf: string | null;
  claimedBy: string | null;
  logPath: string | null;
  exitCode: number | null;
  exitSignal: string | null;
  cancelRequested: boolean;
  logOffset: number;
  executor: 'local' | 'slurm';
  /** Null unless the task runs as a Slurm batch job and was submitted. */
  slurm: SlurmJobState | null;
}

interface TaskRow {
  id: string;
  training_id: string;
  step_type: StepType;
  status: TaskStatus;
  pid: number | null;
  config_snapshot: string;
  error_msg: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  progress: number | null;
  eta_ms: number | null;
  gpu_id: string | null;
  chain_id: string | null;
  chain_seq: number | null;
  retry_of: string | null;
  claimed_by: string | null;
  log_path: string | null;
  exit_code: number | null;
  exit_signal: string | null;
  cancel_requested: number;
  log_offset: number;
  executor: 'local' | 'slurm';
  slurm_job_id: string | null;
  slurm_state: string | null;
  slurm_reason: string | null;
  slurm_partition: string | null;
}

function fromRow<S>(row: TaskRow, codec: SnapshotCodec<S>): StoredTask<S> {
  return {
    id: row.id,
    trainingId: row.training_id,
    stepType: row.step_type,
    status: row.status,
    pid: row.pid,
    snapshot: codec.decode(row.config_snapshot, row.id),
    errorMsg: row.error_msg,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
    progress: row.progress,
    etaMs: row.eta_ms,
    gpuId: row.gpu_id,
    chainId: row.chain_id,
    chainSeq: row.chain_seq,
    retryOf: row.retry_of,
    claimedBy: row.claimed_by,
    logPath: row.log_path,
    exitCode: row.exit_code,
    exitSignal: row.exit_signal,
    cancelRequested: row.cancel_requested === 1,
    logOffset: row.log_offset,
    executor: row.executor,
    slurm:
      row.slurm_job_id === null
        ? null
        : { jobId: row.slurm_job_id, state: row.slurm_state, reason: row.slurm_reason, partition: row.slurm_partition },
  };
}

export interface NewTask<S> {
  trainingId: string;
  stepType: StepType;
  snapshot: S;
  /** Absent: local. */
  executor?: 'local' | 'slurm';
  gpuId: string | null;
  chainId?: string | null;
  chainSeq?: number | null;
  retryOf?: string | null;
}

export interface ClaimLimits {
  cpuConcurrency: number;
  /** Only these tasks may be claimed (a `run` command works on its own tasks only). */
  only?: ReadonlySet<string>;
}

export interface TaskLogEntry {
  level: TaskLogLevel;
  message: string;
}

export interface TaskLogRow extends TaskLogEntry {
  id: number;
  createdAt: number;
}

/** The GPU ids a task holds: "0-1" holds 0 and 1. */
export function gpuIds(gpuId: string | null): string[] {
  return gpuId ? gpuId.split('-').filter(Boolean) : [];
}

/**
 * training_tasks and task_logs, the read half: what every view, command and check may see. The
 * writing half (TaskWriter) is TaskLifecycle's, so only the lifecycle moves a task.
 */
export class TaskRepository<S> {
  protected readonly store: Store;
  protected readonly codec: SnapshotCodec<S>;

  constructor(store: Store, codec: SnapshotCodec<S>) {
    this.store = store;
    this.codec = codec;
  }

  protected fromRow(row: TaskRow): StoredTask<S> {
    return fromRow(row, this.codec);
  }

  get(id: string): StoredTask<S> {
    const row = prepared(this.store, 'SELECT * FROM training_tasks WHERE id = ?').get(id) as TaskRow | undefined;
    if (!row) throw new UserError(msg`No task with id ${id}.`, 'no-task');
    return this.fromRow(row);
  }

  /** A full id or a unique prefix of one, as users copy them from `task list`. */
  resolve(idOrPrefix: string): StoredTask<S> {
    const prefix = idOrPrefix.trim().toLowerCase();
    if (!/^[0-9a-f-]{1,36}$/.test(prefix))
      throw new UserError(msg`"${idOrPrefix}" is not a task id (ids look like 3f2a9c1e-…).`, 'no-task');
    const rows = prepared(this.store, "SELECT * FROM training_tasks WHERE id >= ? AND id < ? || 'g' ORDER BY id LIMIT 2").all(
      prefix,
      prefix,
    ) as TaskRow[];
    if (rows.length === 0)
      throw new UserError(msg`No task id starts with "${idOrPrefix}". "rvc-studio task list" shows the tasks.`, 'no-task');
    if (rows.length > 1 && rows[0]!.id !== prefix) {
      const matches = prepared(this.store, "SELECT id FROM training_tasks WHERE id >= ? AND id < ? || 'g' ORDER BY id", {
        pluck: true,
      }).all(prefix, prefix) as string[];
      const shown = matches.slice(0, 5).map((id) => `${id.slice(0, Math.max(8, prefix.length + 4))}…`);
      throw new UserError(
        msg`"${idOrPrefix}" is ambiguous: matches ${matches.length} tasks (${shown.join(', ')}${matches.length > shown.length ? ', …' : ''}); type more of the id.`,
        'ambiguous-task',
      );
    }
    return this.fromRow(rows[0]!);
  }

  list(options: { trainingId?: string; status?: TaskStatus; limit?: number } = {}): StoredTask<S>[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.trainingId) {
      where.push('training_id = ?');
      params.push(options.trainingId);
    }
    if (options.status) {
      where.push('status = ?');
      params.push(options.status);
    }
    const rows = prepared(
      this.store,
      `SELECT * FROM training_tasks ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
          ORDER BY created_at DESC, coalesce(chain_seq, 0) DESC, rowid DESC LIMIT ?`,
    ).all(...params, options.limit ?? 200) as TaskRow[];
    return rows.map((row) => this.fromRow(row));
  }

  /** Queued or running: what a worker waits for before it may call the queue idle. */
  unfinishedCount(): number {
    return prepared(this.store, "SELECT count(*) FROM training_tasks WHERE status IN ('queued', 'running')", {
      pluck: true,
    }).get() as number;
  }

  /** Ids of the tasks one runner claimed, in the order they started. */
  claimedBy(runnerId: string): string[] {
    return prepared(this.store, 'SELECT id FROM training_tasks WHERE claimed_by = ? ORDER BY started_at', { pluck: true }).all(
      runnerId,
    ) as string[];
  }

  running(): StoredTask<S>[] {
    return (prepared(this.store, "SELECT * FROM training_tasks WHERE status = 'running'").all() as TaskRow[]).map((row) =>
      this.fromRow(row),
    );
  }

  logs(id: string, { afterId = 0, limit = 1000 } = {}): TaskLogRow[] {
    return (
      prepared(this.store, 'SELECT id, level, message, created_at FROM task_logs WHERE task_id = ? AND id > ? ORDER BY id LIMIT ?').all(
        id,
        afterId,
        limit,
      ) as {
        id: number;
        level: TaskLogLevel;
        message: string;
        created_at: number;
      }[]
    ).map((r) => ({ id: r.id, level: r.level, message: r.message, createdAt: r.created_at }));
  }
}

/** training_tasks and task_logs, the writing half: the queue's rows. Emits taskChanged after each commit. */
export class TaskWriter<S> extends TaskRepository<S> {
  insert(tasks: NewTask<S>[]): StoredTask<S>[] {
    const ids = tasks.map(() => randomUUID());
    const now = nowMs();
    this.store.transaction(() => {
      const insert = prepared(
        this.store,
        `INSERT INTO training_tasks (id, training_id, step_type, status, config_snapshot, created_at, updated_at, gpu_id, chain_id, chain_seq, retry_of, executor)
         VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      tasks.forEach((task, i) => {
        insert.run(
          ids[i],
          task.trainingId,
          task.stepType,
          this.codec.encode(task.snapshot),
          now,
          now,
          task.gpuId,
          task.chainId ?? null,
          task.chainSeq ?? null,
          task.retryOf ?? null,
          task.executor ?? 'local',
        );
      });
    });
    const created = ids.map((id) => this.get(id));
    for (const task of created) this.emitChanged(task);
    return created;
  }

  /**
   * Claims the next task that may start now, atomically: two runner processes (two VS Code windows,
   * a window and a CLI worker) never claim the same row. Rules: tasks of one training run one at a
   * time in the order they were queued; a GPU step waits until none of its GPU ids is busy; CPU steps
   * run at most cpuConcurrency at a time across all runners. Slurm tasks take no part in the GPU and
   * CPU limits (Slurm queues them on the cluster); the one-at-a-time rule per training still holds.
   */
  claimNext(runnerId: string, limits: ClaimLimits): StoredTask<S> | undefined {
    const claimed = this.store.transaction(() => {
      const running = prepared(this.store, "SELECT training_id, gpu_id, executor FROM training_tasks WHERE status = 'running'").all() as {
        training_id: string;
        gpu_id: string | null;
        executor: 'local' | 'slurm';
      }[];
      const busyTrainings = new Set(running.map((r) => r.training_id));
      const local = running.filter((r) => r.executor !== 'slurm');
      const busyGpus = new Set(local.flatMap((r) => gpuIds(r.gpu_id)));
      let cpuRunning = local.filter((r) => r.gpu_id === null).length;
      const queued = prepared(
        this.store,
        "SELECT id, training_id, gpu_id, executor FROM training_tasks WHERE status = 'queued' ORDER BY created_at, coalesce(chain_seq, 0), rowid",
      ).all() as { id: string; training_id: string; gpu_id: string | null; executor: 'local' | 'slurm' }[];
      for (const candidate of queued) {
        const blocked = busyTrainings.has(candidate.training_id);
        // Whatever happens to this one, later tasks of its training wait behind it.
        busyTrainings.add(candidate.training_id);
        if (blocked) continue;
        if (limits.only && !limits.only.has(candidate.id)) continue;
        const gpus = candidate.executor === 'slurm' ? null : gpuIds(candidate.gpu_id);
        if (gpus !== null && (gpus.length > 0 ? gpus.some((g) => busyGpus.has(g)) : cpuRunning >= limits.cpuConcurrency)) continue;
        const row = prepared(
          this.store,
          "UPDATE training_tasks SET status = 'running', claimed_by = ?, started_at = ? WHERE id = ? AND status = 'queued' RETURNING *",
        ).get(runnerId, nowMs(), candidate.id) as TaskRow | undefined;
        if (row) return this.fromRow(row);
        if (gpus === null) continue;
        if (gpus.length > 0) gpus.forEach((g) => busyGpus.add(g));
        else cpuRunning++;
      }
      return undefined;
    });
    if (claimed) this.emitChanged(claimed);
    return claimed;
  }

  /** The exact plan, stored before its launcher is spawned, so whoever settles the task can judge it. */
  savePlan(id: string, snapshot: S): StoredTask<S> {
    prepared(this.store, "UPDATE training_tasks SET config_snapshot = ? WHERE id = ? AND status = 'running'").run(
      this.codec.encode(snapshot),
      id,
    );
    return this.get(id);
  }

  markLaunched(id: string, pid: number, logPath: string, snapshot: S): StoredTask<S> {
    prepared(this.store, 'UPDATE training_tasks SET pid = ?, log_path = ?, config_snapshot = ?, log_offset = 0 WHERE id = ?').run(
      pid,
      logPath,
      this.codec.encode(snapshot),
      id,
    );
    const task = this.get(id);
    this.emitChanged(task);
    return task;
  }

  /** The batch job was accepted: its id (column; the snapshot holds it too) and the log; the task has no local pid. */
  markSubmitted(id: string, jobId: string, partition: string, logPath: string, snapshot: S): StoredTask<S> {
    prepared(
      this.store,
      "UPDATE training_tasks SET slurm_job_id = ?, slurm_state = 'PENDING', slurm_reason = NULL, slurm_partition = ?, log_path = ?, config_snapshot = ?, log_offset = 0 WHERE id = ?",
    ).run(jobId, partition || null, logPath, this.codec.encode(snapshot), id);
    const task = this.get(id);
    this.emitChanged(task);
    return task;
  }

  /** A new batch job replaces a pre-empted one: the log (appended to by both) is read on from where it was. */
  markResubmitted(id: string, jobId: string, snapshot: S): StoredTask<S> {
    prepared(
      this.store,
      "UPDATE training_tasks SET slurm_job_id = ?, slurm_state = 'PENDING', slurm_reason = NULL, config_snapshot = ? WHERE id = ?",
    ).run(jobId, this.codec.encode(snapshot), id);
    const task = this.get(id);
    this.emitChanged(task);
    return task;
  }

  /** Slurm's state and reason for the task's job, written only when they changed (one row per poll at most). */
  recordSlurmState(id: string, state: string, reason: string | null, partition: string | null): boolean {
    const result = prepared(
      this.store,
      `UPDATE training_tasks SET slurm_state = ?, slurm_reason = ?, slurm_partition = coalesce(?, slurm_partition)
          WHERE id = ? AND slurm_job_id IS NOT NULL AND (slurm_state IS NOT ? OR slurm_reason IS NOT ? OR (? IS NOT NULL AND slurm_partition IS NOT ?))`,
    ).run(state, reason, partition || null, id, state, reason, partition || null, partition || null);
    if (result.changes === 1) this.emitChanged(this.get(id));
    return result.changes === 1;
  }

  /** Takes over a running task whose runner died; false when another live runner got there first. */
  adopt(id: string, fromRunner: string | null, runnerId: string): boolean {
    const result = prepared(
      this.store,
      "UPDATE training_tasks SET claimed_by = ? WHERE id = ? AND status = 'running' AND claimed_by IS ?",
    ).run(runnerId, id, fromRunner);
    return result.changes === 1;
  }

  /**
   * Progress, ETA, the log position and the notable lines, committed together so none is doubled on
   * restart; false (nothing written) when the stored position is no longer `fromOffset` (another
   * reader stored that range first). `alsoInTransaction` writes what else the range produced (a
   * training's curve points) in the same transaction, only when the range is this reader's.
   */
  recordLog(
    id: string,
    update: { fromOffset: number; logOffset: number; progress?: number | null; etaMs?: number | null; lines: TaskLogEntry[] },
    alsoInTransaction?: () => void,
  ): boolean {
    return this.store.transaction(() => {
      const sets = ['log_offset = ?'];
      const params: unknown[] = [update.logOffset];
      if (update.progress !== undefined) {
        sets.push('progress = ?');
        params.push(update.progress);
      }
      if (update.etaMs !== undefined) {
        sets.push('eta_ms = ?');
        params.push(update.etaMs);
      }
      const moved = prepared(this.store, `UPDATE training_tasks SET ${sets.join(', ')} WHERE id = ? AND log_offset = ?`).run(
        ...params,
        id,
        update.fromOffset,
      );
      if (moved.changes !== 1) return false;
      const insert = prepared(this.store, 'INSERT INTO task_logs (task_id, level, message, created_at) VALUES (?, ?, ?, ?)');
      const now = nowMs();
      for (const line of update.lines) insert.run(id, line.level, line.message, now);
      alsoInTransaction?.();
      return true;
    });
  }

  addLog(id: string, level: TaskLogLevel, message: string): void {
    prepared(this.store, 'INSERT INTO task_logs (task_id, level, message, created_at) VALUES (?, ?, ?, ?)').run(
      id,
      level,
      message,
      nowMs(),
    );
  }

  /**
   * Moves a queued or running task to its final state; false (and nothing written) when it already
   * had one, so two processes finalising the same task cannot both win.
   */
  finish(
    id: string,
    outcome: {
      status: 'success' | 'failed' | 'cancelled';
      errorMsg?: string | null;
      exitCode?: number | null;
      exitSignal?: string | null;
      progress?: number | null;
    },
  ): boolean {
    const result = prepared(
      this.store,
      `UPDATE training_tasks SET status = ?, error_msg = ?, exit_code = ?, exit_signal = ?, finished_at = ?, eta_ms = NULL,
                progress = coalesce(?, progress)
          WHERE id = ? AND status IN ('queued', 'running')`,
    ).run(
      outcome.status,
      outcome.errorMsg ?? null,
      outcome.exitCode ?? null,
      outcome.exitSignal ?? null,
      nowMs(),
      outcome.progress ?? null,
      id,
    );
    if (result.changes === 1) this.emitChanged(this.get(id));
    return result.changes === 1;
  }

  /** finish() only from the given state (a queued task that was claimed meanwhile is not cancelled here). */
  finishIf(
    id: string,
    from: 'queued' | 'running',
    outcome: { status: 'success' | 'failed' | 'cancelled'; errorMsg?: string | null },
  ): boolean {
    const result = prepared(
      this.store,
      'UPDATE training_tasks SET status = ?, error_msg = ?, finished_at = ?, eta_ms = NULL WHERE id = ? AND status = ?',
    ).run(outcome.status, outcome.errorMsg ?? null, nowMs(), id, from);
    if (result.changes === 1) this.emitChanged(this.get(id));
    return result.changes === 1;
  }

  /** The chain stops at its first failure: its later tasks that have not started are cancelled. */
  cancelRestOfChain(task: StoredTask<S>, reason: string): StoredTask<S>[] {
    if (!task.chainId || task.chainSeq === null) return [];
    const rows = prepared(
      this.store,
      `UPDATE training_tasks SET status = 'cancelled', error_msg = ?, finished_at = ?
          WHERE chain_id = ? AND chain_seq > ? AND status = 'queued' RETURNING *`,
    ).all(reason, nowMs(), task.chainId, task.chainSeq) as TaskRow[];
    const cancelled = rows.map((row) => this.fromRow(row));
    for (const t of cancelled) this.emitChanged(t);
    return cancelled;
  }

  requestCancel(id: string): void {
    prepared(this.store, 'UPDATE training_tasks SET cancel_requested = 1 WHERE id = ?').run(id);
  }

  private emitChanged(task: StoredTask<S>): void {
    this.store.events.emit('taskChanged', { taskId: task.id, trainingId: task.trainingId });
  }
}
