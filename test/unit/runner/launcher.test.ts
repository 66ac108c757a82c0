import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launch, readExitRecord, readStartedRecord, taskFiles } from '../../../src/core/runner/processes.ts';
import { trainingPatchFor } from '../../../src/core/runner/trainingState.ts';
import { Store } from '../../../src/core/store/store.ts';
import type { Training } from '../../../src/core/store/trainings.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import { until } from './helpers.ts';

describe('launcher', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir('rvc-studio-launcher-'));
    store = Store.open(dir);
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  it('runs processes in parallel into one log and writes the exit file with the first failure', async () => {
    const id = '11111111-1111-4111-8111-111111111111';
    const pid = launch(store, id, {
      cwd: dir,
      processes: [
        { command: process.execPath, args: ['-e', 'console.log("out " + process.cwd()); console.error("err")'] },
        { command: process.execPath, args: ['-e', 'setTimeout(() => process.exit(3), 50)'], env: { EXTRA: 'x' } },
      ],
    });
    await until(() => readExitRecord(store, id) !== undefined, 10_000, 'the exit file');
    const exit = readExitRecord(store, id)!;
    assert.equal(exit.code, 3);
    assert.equal(exit.signal, null);
    assert.equal(exit.processes.length, 2);
    assert.equal(readStartedRecord(store, id)!.launcherPid, pid);
    const log = fs.readFileSync(taskFiles(store, id).log, 'utf8');
    assert.match(log, /^\[rvc-studio\] \$ \[/);
    assert.ok(log.includes(`out ${fs.realpathSync(dir)}`) || log.includes(`out ${dir}`), log);
    assert.match(log, /^err$/m);
  });

  it('records a command that cannot start (no such Python) instead of dying silently', async () => {
    const id = '22222222-2222-4222-8222-222222222222';
    launch(store, id, { cwd: dir, processes: [{ command: path.join(dir, 'no-python'), args: ['x.py'] }] });
    await until(() => readExitRecord(store, id) !== undefined, 10_000, 'the exit file');
    const exit = readExitRecord(store, id)!;
    assert.equal(exit.code, 127);
    assert.match(exit.error!, /no-python: spawn .* ENOENT/);
  });
});

describe('training state follows task outcomes', () => {
  const base = { status: 'draft', hasPreprocessed: false, hasExtracted: false, resultModelPath: null } as Training;
  it('draft → ready → training → finished | failed', () => {
    assert.deepEqual(trainingPatchFor(base, 'preprocess', 'success', {}), { hasPreprocessed: true });
    assert.deepEqual(trainingPatchFor({ ...base, hasPreprocessed: true }, 'extract_feature', 'success', { extractionComplete: true }), {
      hasExtracted: true,
      status: 'ready',
    });
    assert.deepEqual(trainingPatchFor({ ...base, hasPreprocessed: true }, 'extract_f0', 'success', { extractionComplete: false }), {
      hasExtracted: false,
    });
    const ready = { ...base, status: 'ready', hasPreprocessed: true, hasExtracted: true } as Training;
    assert.deepEqual(trainingPatchFor(ready, 'train_model', 'started', {}), { status: 'training' });
    assert.deepEqual(trainingPatchFor(ready, 'train_model', 'success', { resultModelPath: '/w.pth' }), {
      status: 'finished',
      resultModelPath: '/w.pth',
    });
    assert.deepEqual(trainingPatchFor(ready, 'train_model', 'failed', {}), { status: 'failed' });
    assert.deepEqual(trainingPatchFor({ ...ready, status: 'training' }, 'train_model', 'cancelled', {}), { status: 'ready' });
    assert.deepEqual(trainingPatchFor({ ...ready, status: 'training', resultModelPath: '/w.pth' }, 'train_model', 'cancelled', {}), {
      status: 'finished',
    });
    assert.deepEqual(trainingPatchFor(ready, 'train_index', 'success', {}), {});
  });
});
