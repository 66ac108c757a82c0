import * as assert from 'node:assert/strict';
import type { RunParams } from '../../../src/core/runner/params.ts';
import type { Task } from '../../../src/core/runner/taskSnapshot.ts';
import type { Training } from '../../../src/core/store/trainings.ts';
import { statusText } from '../../../src/extension/statusText.ts';
import {
  compareTasks,
  formatBytes,
  formatEta,
  STEP_STATE_LABELS,
  stepRows,
  stepsDone,
  TRAINING_STATE_LABELS,
  trainingState,
} from '../../../src/extension/views/stepStates.ts';

function training(overrides: Partial<Training> = {}): Training {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    name: 'alto',
    status: 'ready',
    createdAt: 1,
    updatedAt: 1,
    datasetPath: '/d',
    targetSr: 40000,
    hasPreprocessed: false,
    hasExtracted: false,
    f0Method: 'rmvpe',
    modelVersion: 'v2',
    gpuId: '0',
    resultModelPath: null,
    ifF0: true,
    logsDir: null,
    rvcRoot: null,
    params: {},
    notes: '',
    deletedAt: null,
    tags: [],
    ...overrides,
  };
}

function task(stepType: Task['stepType'], status: Task['status'], overrides: Partial<Task> = {}): Task {
  return {
    id: `task-${stepType}-${status}`,
    trainingId: training().id,
    stepType,
    status,
    pid: null,
    snapshot: { engine: 'rvc', params: {} as RunParams, training: { name: 'alto', logsDir: '/l' } },
    errorMsg: null,
    createdAt: 10,
    startedAt: null,
    finishedAt: null,
    updatedAt: 10,
    progress: null,
    etaMs: null,
    gpuId: null,
    chainId: null,
    chainSeq: null,
    retryOf: null,
    claimedBy: null,
    logPath: null,
    exitCode: null,
    exitSignal: null,
    cancelRequested: false,
    logOffset: 0,
    executor: 'local',
    slurm: null,
    ...overrides,
  };
}

describe('step states of the Trainings view', () => {
  it('a new training has five steps not run', () => {
    assert.deepEqual(
      stepRows(training(), [], false).map((r) => r.state),
      ['notRun', 'notRun', 'notRun', 'notRun', 'notRun'],
    );
  });

  it('an imported training with no tasks is judged by its own flags and its index file', () => {
    const rows = stepRows(training({ hasPreprocessed: true, hasExtracted: true, status: 'finished' }), [], true);
    assert.deepEqual(
      rows.map((r) => r.detail),
      ['done', 'done', 'done', 'done', 'done'],
    );
  });

  it("a live task wins over the flags; failures carry the task's sentence", () => {
    const rows = stepRows(
      training({ hasPreprocessed: true }),
      [
        task('preprocess', 'success'),
        task('extract_f0', 'failed', { errorMsg: 'rmvpe.pt is missing' }),
        task('extract_feature', 'running', { progress: 43.7, etaMs: 12 * 60_000 }),
        task('train_model', 'queued'),
      ],
      false,
    );
    assert.deepEqual(
      rows.map((r) => r.detail),
      ['done', 'failed: rmvpe.pt is missing', 'running 43% · ETA 12m', 'queued', 'not run'],
    );
  });

  it('the newest task of a step decides: a retry that succeeded clears the failure', () => {
    const rows = stepRows(
      training(),
      [task('preprocess', 'failed', { createdAt: 1 }), task('preprocess', 'success', { createdAt: 2, id: 'b' })],
      false,
    );
    assert.equal(rows[0]!.state, 'done');
  });

  it('f0 extraction is not needed without pitch guidance', () => {
    assert.equal(stepRows(training({ ifF0: false }), [], false)[1]!.state, 'skipped');
  });

  it('formats ETAs and sizes for people', () => {
    assert.equal(formatEta(30_000), '<1m');
    assert.equal(formatEta(12 * 60_000), '12m');
    assert.equal(formatEta(125 * 60_000), '2h05m');
    assert.equal(formatEta(null), undefined);
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(55 * 1024 * 1024), '55 MB');
    assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GB');
  });

  it('the status bar shows the first running task and how many more run', () => {
    assert.equal(statusText([]), undefined);
    const running = [
      { trainingName: 'alto-demo', task: task('train_model', 'running', { progress: 43, etaMs: 12 * 60_000, startedAt: 20 }) },
    ];
    assert.equal(statusText(running), '$(sync~spin) alto-demo · Train model 43% · ETA 12m');
    assert.equal(
      statusText([...running, { trainingName: 'b', task: task('preprocess', 'running', { startedAt: 30 }) }]),
      '$(sync~spin) alto-demo · Train model 43% · ETA 12m (+1)',
    );
  });

  it('the status bar names the step that started first, never the next one while it still runs', () => {
    const current = { trainingName: 'alto', task: task('extract_feature', 'running', { startedAt: 100, createdAt: 10 }) };
    const next = { trainingName: 'alto', task: task('train_model', 'running', { startedAt: 200, createdAt: 11 }) };
    assert.match(statusText([next, current])!, /alto · Extract features/);
  });
});

describe('the one status vocabulary', () => {
  const rowsOf = (t: Training, tasks: Task[] = []) => stepRows(t, tasks, false);

  it('tells an untouched training from a partly run, a running, a failed and a trained one', () => {
    assert.equal(trainingState(rowsOf(training())), 'notStarted');
    const partly = rowsOf(training({ hasPreprocessed: true }));
    assert.equal(trainingState(partly), 'partlyRun');
    assert.equal(stepsDone(partly), '1 of 5 steps done');
    assert.equal(trainingState(rowsOf(training({ hasPreprocessed: true }), [task('extract_f0', 'queued')])), 'queued');
    assert.equal(trainingState(rowsOf(training({ hasPreprocessed: true }), [task('extract_f0', 'running')])), 'running');
    assert.equal(trainingState(rowsOf(training({ hasPreprocessed: true }), [task('extract_f0', 'failed')])), 'failed');
    assert.equal(trainingState(rowsOf(training({ hasPreprocessed: true, hasExtracted: true, status: 'finished' }))), 'trained');
    // Without pitch guidance extract_f0 is not needed and not counted.
    assert.equal(stepsDone(rowsOf(training({ ifF0: false, hasPreprocessed: true }))), '1 of 4 steps done');
  });

  it("uses plain words, never the store's draft/ready bookkeeping", () => {
    const words = [...Object.values(TRAINING_STATE_LABELS), ...Object.values(STEP_STATE_LABELS)];
    for (const internal of ['draft', 'ready', 'success', 'notRun', 'partlyRun']) assert.ok(!words.includes(internal), internal);
    // The step rows say what the table says.
    assert.deepEqual(new Set(rowsOf(training()).map((r) => r.detail)), new Set([STEP_STATE_LABELS.notRun]));
  });
});

describe('Tasks view order', () => {
  it('is by creation (a pipeline in chain order), so status, progress and update churn never move a row', () => {
    const a = task('preprocess', 'success', { id: 'a', createdAt: 10, chainSeq: 0, updatedAt: 900 });
    const b = task('extract_f0', 'running', { id: 'b', createdAt: 10, chainSeq: 1, updatedAt: 50 });
    const c = task('extract_feature', 'queued', { id: 'c', createdAt: 10, chainSeq: 2, updatedAt: 10 });
    const d = task('train_model', 'failed', { id: 'd', createdAt: 20, updatedAt: 20 });
    const order = (tasks: Task[]) => [...tasks].sort(compareTasks).map((t) => t.id);
    assert.deepEqual(order([d, c, b, a]), ['a', 'b', 'c', 'd']);
    // b ends and c starts: same order.
    const later = [a, { ...b, status: 'success' as const, updatedAt: 1000 }, { ...c, status: 'running' as const, updatedAt: 1001 }, d];
    assert.deepEqual(order(later), ['a', 'b', 'c', 'd']);
  });
});
