import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importRvc } from '../../../src/core/import/rvcImporter.ts';
import { checkStore } from '../../../src/core/workspace/check.ts';
import { parseJsonWithNonFinite } from '../../../src/core/metrics/jsonlReader.ts';
import { querySeries } from '../../../src/core/metrics/metricsQuery.ts';
import { listArtifacts } from '../../../src/core/models/modelRegistry.ts';
import { databaseOf, Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';

const runA = path.join(sharedFixtures, 'rvc-real-a');
const runC = path.join(sharedFixtures, 'rvc-real-c-trainlog');

function skipWithoutFixtures(ctx: Mocha.Context): void {
  if (!fs.existsSync(runA) || !fs.existsSync(runC)) {
    console.warn(`SKIP: ../shared/fixtures not found at ${sharedFixtures} — the real RVC install trees are needed`);
    ctx.skip();
  }
}

describe('import: RVC installs and logs folders', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  let rvc: string;
  beforeEach(function () {
    skipWithoutFixtures(this);
    ({ dir, cleanup } = makeTempDir());
    rvc = path.join(dir, 'rvc');
    fs.cpSync(runA, rvc, { recursive: true });
    fs.mkdirSync(path.join(dir, 'ws'));
    store = Store.open(path.join(dir, 'ws'));
  });
  afterEach(() => {
    store?.close();
    cleanup?.();
  });

  it('leaves a store that db check finds clean: the same mtime rounding on both sides', async () => {
    await importRvc(store, rvc);
    const report = await checkStore(store);
    assert.deepEqual(report.findings, []);
  });

  it('imports rvc-real-a as one finished training with its checkpoints, small models, index and metrics', async () => {
    const report = await importRvc(store, rvc);
    assert.equal(report.trainings.length, 1);
    assert.deepEqual(report.skipped, []);
    const [imported] = report.trainings;
    assert.equal(imported!.action, 'created');
    const training = new TrainingRepository(store).require('alto-demo');
    assert.equal(training.status, 'finished');
    assert.equal(training.hasPreprocessed, true);
    assert.equal(training.hasExtracted, true);
    assert.equal(training.targetSr, 40000);
    assert.equal(training.modelVersion, 'v2');
    assert.equal(training.ifF0, true);
    assert.equal(training.f0Method, 'harvest');
    assert.equal(training.logsDir, path.join(rvc, 'logs', 'alto-demo'));
    assert.equal(training.rvcRoot, rvc);
    assert.equal(training.resultModelPath, path.join(rvc, 'assets/weights/alto-demo.pth'));

    const artifacts = listArtifacts(store, training.id);
    const byKind = (kind: string): string[] => artifacts.filter((a) => a.kind === kind).map((a) => path.relative(rvc, a.path));
    assert.deepEqual(byKind('checkpoint_g'), ['logs/alto-demo/G_10.pth', 'logs/alto-demo/G_20.pth']);
    assert.deepEqual(byKind('checkpoint_d'), ['logs/alto-demo/D_10.pth', 'logs/alto-demo/D_20.pth']);
    assert.deepEqual(byKind('weights').sort(), [
      'assets/weights/alto-demo.pth',
      'assets/weights/alto-demo_e2_s10.pth',
      'assets/weights/alto-demo_e4_s20.pth',
    ]);
    assert.deepEqual(byKind('index'), ['logs/alto-demo/added_IVF37_Flat_nprobe_1_alto-demo_v2.index']);
    assert.ok(byKind('onnx').includes('onnx/alto-demo.onnx'));
    const g10 = artifacts.find((a) => a.path.endsWith('G_10.pth'))!;
    assert.deepEqual([g10.step, g10.epoch, g10.size], [10, 2, fs.statSync(g10.path).size]);

    const dump = parseJsonWithNonFinite(fs.readFileSync(path.join(runA, 'provenance/tensorboard.json'), 'utf8')) as Record<
      string,
      { scalars: Record<string, [number, number, number][]> }
    >;
    const expected = dump['logs/alto-demo/events.out.tfevents.1795413187.vm.689.0']!.scalars;
    for (const [tag, points] of Object.entries(expected)) {
      const [series] = querySeries(store, { trainingIds: [training.id], tag });
      assert.deepEqual(
        series!.points.map((p) => [p.step, p.value]),
        points.map(([step, value]) => [step, value]),
        tag,
      );
      // Every point has an epoch: 5 steps per epoch, from alto-demo_e2_s10.pth.
      assert.deepEqual(
        series!.points.map((p) => p.epoch),
        points.map(([step]) => Math.floor(step / 5) + 1),
      );
    }
  });

  it('adds nothing when run twice, then adds new files and flags vanished ones', async () => {
    await importRvc(store, rvc);
    const count = (table: string): number => databaseOf(store).prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    const before = ['trainings', 'artifacts', 'metrics', 'metric_series', 'metric_sources'].map(count);
    const second = await importRvc(store, rvc);
    assert.equal(second.trainings[0]!.action, 'unchanged');
    assert.deepEqual(second.trainings[0]!.artifacts.added, []);
    assert.equal(second.trainings[0]!.newPoints, 0);
    assert.deepEqual(['trainings', 'artifacts', 'metrics', 'metric_series', 'metric_sources'].map(count), before);

    const logs = path.join(rvc, 'logs/alto-demo');
    fs.copyFileSync(path.join(logs, 'G_20.pth'), path.join(logs, 'G_30.pth'));
    fs.rmSync(path.join(logs, 'D_10.pth'));
    const third = await importRvc(store, rvc, { training: 'alto-demo' });
    assert.deepEqual(third.trainings[0]!.artifacts.added, [path.join(logs, 'G_30.pth')]);
    assert.deepEqual(third.trainings[0]!.artifacts.missing, [path.join(logs, 'D_10.pth')]);
    const d10 = databaseOf(store).prepare('SELECT deleted_at FROM artifacts WHERE path = ?').pluck().get(path.join(logs, 'D_10.pth'));
    assert.equal(typeof d10, 'number', 'the vanished file stays as history, flagged');
    assert.equal((await importRvc(store, rvc)).trainings[0]!.artifacts.missing.length, 0, 'flagged once');
  });

  it('imports a bare logs folder and a single experiment folder; refuses what is not RVC', async () => {
    const logsOnly = path.join(dir, 'elsewhere', 'logs');
    fs.mkdirSync(logsOnly, { recursive: true });
    fs.cpSync(path.join(runC, 'logs/trainlog-demo'), path.join(logsOnly, 'trainlog-demo'), { recursive: true });
    fs.mkdirSync(path.join(logsOnly, 'mute', '0_gt_wavs'), { recursive: true });
    const report = await importRvc(store, logsOnly);
    assert.deepEqual(
      report.trainings.map((t) => t.name),
      ['trainlog-demo'],
    );
    const training = new TrainingRepository(store).require('trainlog-demo');
    assert.equal(training.status, 'finished', 'train.log says "Training is done"');
    assert.equal(training.rvcRoot, path.dirname(logsOnly));
    assert.ok(report.trainings[0]!.newPoints > 0);
    // train.log and the events file agree; every point has its epoch from the log.
    const [d] = querySeries(store, { trainingIds: [training.id], tag: 'loss/d/total' });
    assert.ok(d!.points.length >= 10 && d!.points.every((p) => p.epoch !== null));
    assert.equal(
      databaseOf(store).prepare("SELECT count(*) FROM metrics WHERE source = 'train_log'").pluck().get(),
      d!.points.length,
      'loss/g/gen only',
    );

    const single = await importRvc(store, path.join(rvc, 'logs', 'alto-demo'));
    assert.deepEqual(
      single.trainings.map((t) => [t.name, t.action]),
      [['alto-demo', 'created']],
    );
    assert.equal(new TrainingRepository(store).require('alto-demo').rvcRoot, rvc);

    await assert.rejects(importRvc(store, path.join(dir, 'nope')), /is not a folder/);
    fs.mkdirSync(path.join(dir, 'empty'));
    await assert.rejects(importRvc(store, path.join(dir, 'empty')), /holds no RVC experiment folders/);
    await assert.rejects(importRvc(store, rvc, { training: 'other' }), /No experiment "other".*found: alto-demo/);
  });

  it('skips an experiment whose name is taken by a different training, and leaves that training alone', async () => {
    const dataset = path.join(dir, 'ds');
    fs.mkdirSync(dataset);
    const mine = new TrainingRepository(store).create({ name: 'alto-demo', datasetPath: dataset });
    const report = await importRvc(store, rvc);
    assert.deepEqual(report.trainings, []);
    assert.match(report.skipped[0]!.reason, /already uses/);
    assert.equal(listArtifacts(store, mine.id).length, 0);
  });
});
