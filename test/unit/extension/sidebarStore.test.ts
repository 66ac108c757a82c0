import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { syncArtifacts } from '../../../src/core/models/modelRegistry.ts';
import { deleteArtifactFile } from '../../../src/core/store/artifactFiles.ts';
import { latestMetric, metricsSummary, trainingsWithIndex } from '../../../src/core/store/sidebarQueries.ts';
import { databaseOf, Store } from '../../../src/core/store/store.ts';
import { TrainingRepository, trainingLogsDir, type Training } from '../../../src/core/store/trainings.ts';
import { makeTempDir } from '../../support/tempDir.ts';

describe('sidebar queries and model-file deletion (real SQLite store)', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  let training: Training;

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    store = Store.open(dir);
    training = new TrainingRepository(store).create({ name: 'alto' });
  });

  afterEach(() => {
    store.close();
    cleanup();
  });

  function addPoints(tag: string, points: [step: number, value: number | null, epoch: number][]): void {
    const series = databaseOf(store)
      .prepare('INSERT INTO metric_series (training_id, tag) VALUES (?, ?) RETURNING id')
      .get(training.id, tag) as { id: number };
    const insert = databaseOf(store).prepare(
      "INSERT INTO metrics (series_id, step, value, epoch, source, source_rank) VALUES (?, ?, ?, ?, 'tfevents', 3)",
    );
    for (const [step, value, epoch] of points) insert.run(series.id, step, value, epoch);
  }

  it('latestMetric takes the newest point of the first tag that has any', () => {
    assert.equal(latestMetric(store, training.id, ['loss/g/total']), undefined);
    addPoints('loss/g/gen', [
      [0, 3, 1],
      [10, 2.5, 2],
    ]);
    assert.deepEqual(latestMetric(store, training.id, ['loss/g/total', 'loss/g/gen']), {
      tag: 'loss/g/gen',
      step: 10,
      epoch: 2,
      value: 2.5,
    });
    addPoints('loss/g/total', [
      [5, 40, 1],
      [15, null, 3],
    ]);
    const total = latestMetric(store, training.id, ['loss/g/total', 'loss/g/gen'])!;
    assert.equal(total.tag, 'loss/g/total');
    assert.ok(Number.isNaN(total.value), 'a stored NaN (NULL) comes back as NaN');
  });

  it('metricsSummary counts series and points', () => {
    assert.deepEqual(metricsSummary(store, training.id), { series: 0, points: 0, lastStep: null, lastEpoch: null });
    addPoints('a', [
      [0, 1, 1],
      [1, 2, 1],
    ]);
    addPoints('b', [[4, 1, 2]]);
    assert.deepEqual(metricsSummary(store, training.id), { series: 2, points: 3, lastStep: 4, lastEpoch: 2 });
  });

  it('deleteArtifactFile removes a file inside the training folder, keeps the row as history, and tells the views', async () => {
    const logs = trainingLogsDir(store, training);
    fs.mkdirSync(logs, { recursive: true });
    const file = path.join(logs, 'G_10.pth');
    fs.writeFileSync(file, 'checkpoint');
    const index = path.join(logs, 'added_IVF1_Flat_nprobe_1_alto_v2.index');
    fs.writeFileSync(index, 'index');
    await syncArtifacts(store, training.id, [
      { kind: 'checkpoint_g', path: file, size: 10, mtimeMs: 1, epoch: null, step: 10 },
      { kind: 'index', path: index, size: 5, mtimeMs: 1, epoch: null, step: null },
    ]);
    assert.deepEqual([...trainingsWithIndex(store)], [training.id]);
    const id = (databaseOf(store).prepare('SELECT id FROM artifacts WHERE path = ?').get(file) as { id: number }).id;
    const events: string[] = [];
    store.events.on('artifactsChanged', (e) => events.push(e.trainingId));
    assert.deepEqual(deleteArtifactFile(store, id), { path: file, bytes: 10 });
    assert.equal(fs.existsSync(file), false);
    assert.notEqual(
      (databaseOf(store).prepare('SELECT deleted_at FROM artifacts WHERE id = ?').get(id) as { deleted_at: number | null }).deleted_at,
      null,
    );
    assert.deepEqual(events, [training.id]);
    assert.throws(() => deleteArtifactFile(store, id), /no longer listed/);
  });

  it("deleteArtifactFile refuses a row whose path lies outside the training's folders, and deletes nothing", async () => {
    const outside = path.join(dir, 'precious.pth');
    fs.writeFileSync(outside, 'keep me');
    await syncArtifacts(store, training.id, [{ kind: 'weights', path: outside, size: 7, mtimeMs: 1, epoch: null, step: null }]);
    const id = (databaseOf(store).prepare('SELECT id FROM artifacts WHERE path = ?').get(outside) as { id: number }).id;
    assert.throws(() => deleteArtifactFile(store, id), /Refusing to delete/);
    assert.equal(fs.readFileSync(outside, 'utf8'), 'keep me');
  });

  it('deleteArtifactFile refuses a pinned file', async () => {
    const logs = trainingLogsDir(store, training);
    fs.mkdirSync(logs, { recursive: true });
    const file = path.join(logs, 'D_10.pth');
    fs.writeFileSync(file, 'x');
    await syncArtifacts(store, training.id, [{ kind: 'checkpoint_d', path: file, size: 1, mtimeMs: 1, epoch: null, step: 10 }]);
    databaseOf(store).prepare('UPDATE artifacts SET pinned = 1 WHERE path = ?').run(file);
    const id = (databaseOf(store).prepare('SELECT id FROM artifacts WHERE path = ?').get(file) as { id: number }).id;
    assert.throws(() => deleteArtifactFile(store, id), /pinned/);
    assert.ok(fs.existsSync(file));
  });
});
