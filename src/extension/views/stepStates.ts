import { STEP_TYPES, type StepType } from '../../core/store/vocabulary.ts';
import type { Task } from '../../core/runner/taskSnapshot.ts';
import type { Training } from '../../core/store/trainings.ts';
import * as l10n from '../l10n.ts';

export type StepState = 'done' | 'running' | 'queued' | 'failed' | 'cancelled' | 'notRun' | 'skipped';

export interface StepRow {
  step: StepType;
  state: StepState;
  /** The newest task of this step, when there is one. */
  task: Task | undefined;
  /** "running 43% · ETA 12m", "failed: …", "done", "not run". */
  detail: string;
}

// Getters, so each read is in the user's language (l10n.ts is pointed at VS Code after import).
export const STEP_LABELS: Readonly<Record<StepType, string>> = {
  get preprocess() {
    return l10n.t('Preprocess');
  },
  get extract_f0() {
    return l10n.t('Extract pitch (f0)');
  },
  get extract_feature() {
    return l10n.t('Extract features');
  },
  get train_model() {
    return l10n.t('Train model');
  },
  get train_index() {
    return l10n.t('Train index');
  },
};

export function formatEta(ms: number | null | undefined): string | undefined {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return undefined;
  if (ms < 60_000) return '<1m';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function progressText(task: Pick<Task, 'progress' | 'etaMs'>): string {
  const parts: string[] = [];
  if (task.progress !== null) parts.push(`${Math.floor(task.progress)}%`);
  const eta = formatEta(task.etaMs);
  if (eta) parts.push(l10n.t('ETA {0}', eta));
  return parts.join(' · ');
}

/**
 * The five steps of a training with their state: a live task (running, queued) wins; otherwise the
 * training's own flags say what is done (an imported training has no tasks at all), and the newest
 * ended task tells failed or cancelled.
 */
export function stepRows(training: Training, tasks: readonly Task[], hasIndex: boolean): StepRow[] {
  const newest = new Map<StepType, Task>();
  for (const task of tasks) {
    const seen = newest.get(task.stepType);
    if (!seen || task.createdAt > seen.createdAt) newest.set(task.stepType, task);
  }
  const doneByState: Record<StepType, boolean> = {
    preprocess: training.hasPreprocessed,
    extract_f0: training.hasExtracted && training.ifF0,
    extract_feature: training.hasExtracted,
    train_model: training.status === 'finished' || training.resultModelPath !== null,
    train_index: hasIndex,
  };
  return STEP_TYPES.map((step) => {
    const task = newest.get(step);
    if (step === 'extract_f0' && !training.ifF0)
      return { step, state: 'skipped', task, detail: l10n.t('{0} (no pitch guidance)', STEP_STATE_LABELS.skipped) };
    if (task?.status === 'running') {
      const progress = progressText(task);
      return { step, state: 'running', task, detail: progress ? `${STEP_STATE_LABELS.running} ${progress}` : STEP_STATE_LABELS.running };
    }
    if (task?.status === 'queued') return { step, state: 'queued', task, detail: STEP_STATE_LABELS.queued };
    if (task?.status === 'failed')
      return { step, state: 'failed', task, detail: `${STEP_STATE_LABELS.failed}${task.errorMsg ? `: ${task.errorMsg}` : ''}` };
    if (doneByState[step] || task?.status === 'success') return { step, state: 'done', task, detail: STEP_STATE_LABELS.done };
    if (task?.status === 'cancelled') return { step, state: 'cancelled', task, detail: STEP_STATE_LABELS.cancelled };
    return { step, state: 'notRun', task, detail: STEP_STATE_LABELS.notRun };
  });
}

/**
 * What a training is, in the words the Trainings view, its tooltips and every picker use (the
 * store's own statuses, draft/ready/training, are bookkeeping: a user sees these instead).
 */
export type TrainingState = 'notStarted' | 'partlyRun' | 'queued' | 'running' | 'failed' | 'trained';

export const TRAINING_STATE_LABELS: Readonly<Record<TrainingState, string>> = {
  get notStarted() {
    return l10n.t('not started');
  },
  get partlyRun() {
    return l10n.t('partly run');
  },
  get queued() {
    return l10n.t('queued');
  },
  get running() {
    return l10n.t('running');
  },
  get failed() {
    return l10n.t('failed');
  },
  get trained() {
    return l10n.t('trained');
  },
};

/** The words for one step's state, the same in the Trainings and Tasks views. */
export const STEP_STATE_LABELS: Readonly<Record<StepState, string>> = {
  get done() {
    return l10n.t('done');
  },
  get running() {
    return l10n.t('running');
  },
  get queued() {
    return l10n.t('queued');
  },
  get failed() {
    return l10n.t('failed');
  },
  get cancelled() {
    return l10n.t('cancelled');
  },
  get notRun() {
    return l10n.t('not run');
  },
  get skipped() {
    return l10n.t('not needed');
  },
};

/**
 * A training's state from its steps: running or queued while a step is; failed when its newest
 * attempt at a step failed; trained once train_model is done; partly run when some step is done;
 * else not started.
 */
export function trainingState(rows: readonly Pick<StepRow, 'step' | 'state'>[]): TrainingState {
  if (rows.some((r) => r.state === 'running')) return 'running';
  if (rows.some((r) => r.state === 'queued')) return 'queued';
  if (rows.some((r) => r.state === 'failed')) return 'failed';
  if (rows.some((r) => r.step === 'train_model' && r.state === 'done')) return 'trained';
  if (rows.some((r) => r.state === 'done')) return 'partlyRun';
  return 'notStarted';
}

/** "2 of 5 steps done" (skipped steps are not counted). */
export function stepsDone(rows: readonly Pick<StepRow, 'state'>[]): string {
  const counted = rows.filter((r) => r.state !== 'skipped');
  return l10n.t('{0} of {1} steps done', counted.filter((r) => r.state === 'done').length, counted.length);
}

/**
 * Tasks view order: when each task was queued, oldest first, a pipeline's steps in their chain order.
 * Nothing about a task that changes while it runs (status, progress, updated time) moves its row.
 */
export function compareTasks(
  a: { createdAt: number; chainSeq: number | null; id: string },
  b: { createdAt: number; chainSeq: number | null; id: string },
): number {
  return a.createdAt - b.createdAt || (a.chainSeq ?? 0) - (b.chainSeq ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** "45s", "12m", "1h05m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  return formatEta(ms) ?? '?';
}
