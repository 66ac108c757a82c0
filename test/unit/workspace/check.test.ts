import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkStore } from '../../../src/core/workspace/check.ts';
import { sha256File } from '../../../src/core/util/fileHash.ts';
import { databaseOf, Store } from '../../../src/core/store/store.ts';
import { recordedMtimeMs } from '../../../src/core/util/fileStamp.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { makeTempDir } from '../../support/tempDir.ts';

describe('db check', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    store = Store.open(dir);
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  it('a fresh store is clean', async () => {
    assert.deepEqual(await checkStore(store), { ok: true, findings: [], repaired: 0, unrepaired: 0 });
  });

  it('finds and repairs a running task whose process is gone, a missing and a changed artifact; reports a vanished logs folder', async () => {
    const repo = new TrainingRepository(store);
    const logsDir = path.join(dir, 'logs', 'alto');
    fs.mkdirSync(logsDir, { recursive: true });
    const training = repo.create({ name: 'alto', logsDir, status: 'finished', hasPreprocessed: true });
    const gone = repo.create({ name: 'gone', logsDir: path.join(dir, 'logs', 'gone'), status: 'ready', hasPreprocessed: true });
    const taskId = randomUUID();
    // pid 2^22+ is above Linux's pid_max default, so no process has it.
    databaseOf(store)
      .prepare("INSERT INTO training_tasks (id, training_id, step_type, status, pid) VALUES (?, ?, 'train_model', 'running', 4194999)")
      .run(taskId, training.id);
    const kept = path.join(logsDir, 'G_10.pth');
    fs.writeFileSync(kept, 'checkpoint v1');
    const stat = fs.statSync(kept);
    databaseOf(store)
      .prepare("INSERT INTO artifacts (training_id, kind, path, size, mtime_ms, sha256) VALUES (?, 'checkpoint_g', ?, ?, ?, ?)")
      .run(training.id, kept, stat.size, recordedMtimeMs(stat), await sha256File(kept));
    databaseOf(store)
      .prepare("INSERT INTO artifacts (training_id, kind, path, size) VALUES (?, 'checkpoint_d', ?, 1)")
      .run(training.id, path.join(logsDir, 'D_10.pth'));
    fs.writeFileSync(kept, 'checkpoint v2, longer');

    const report = await checkStore(store);
    assert.deepEqual(report.findings.map((f) => f.kind).sort(), [
      'artifact-changed',
      'artifact-missing',
      'logs-folder-missing',
      'task-process-gone',
    ]);
    assert.ok(report.findings.some((f) => f.message.includes(gone.name)));
    assert.equal(report.ok, false);

    const repaired = await checkStore(store, { repair: true });
    assert.equal(repaired.repaired, 3);
    assert.equal(repaired.unrepaired, 1, 'a vanished logs folder cannot be repaired, only reported');
    const task = databaseOf(store).prepare('SELECT status, error_msg FROM training_tasks WHERE id = ?').get(taskId) as {
      status: string;
      error_msg: string;
    };
    assert.deepEqual(task, { status: 'failed', error_msg: 'interrupted (process gone)' });
    const after = await checkStore(store);
    assert.deepEqual(
      after.findings.map((f) => f.kind),
      ['logs-folder-missing'],
    );
  });
});
