import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeEpochs, bestEpochOf, smoothDebiased, type EpochValue } from '../../../src/core/metrics/bestEpoch.ts';
import { ingestMetricFile } from '../../../src/core/metrics/metricsIngester.ts';
import { metricTags, querySeries, tagSummaries } from '../../../src/core/metrics/metricsQuery.ts';
import { syncArtifacts } from '../../../src/core/models/modelRegistry.ts';
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { makeTempDir } from '../../support/tempDir.ts';

/** Writes a jsonl file of synthetic points and ingests it. */
async function ingestSynthetic(
  store: Store,
  trainingId: string,
  dir: string,
  name: string,
  rows: { step: number; epoch?: number; ts?: number; metrics: Record<string, number> }[],
): Promise<void> {
  const file = path.join(dir, `${name}.jsonl`);
  const text = rows
    .map((r) =>
      JSON.stringify({ ts: r.ts ?? 1_000_000 + r.step * 100, step: r.step, epoch: r.epoch, metrics: r.metrics }, (_k, v: unknown) =>
        typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
      ),
    )
    .join('\n');
  fs.writeFileSync(file, text + '\n');
  await ingestMetricFile(store, trainingId, file, 'jsonl');
}

describe('metrics: query', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  let a: string;
  let b: string;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    store = Store.open(dir);
    const repo = new TrainingRepository(store);
    a = repo.create({ name: 'a' }).id;
    b = repo.create({ name: 'b' }).id;
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  it('downsamples to at most maxPoints, keeping the first and last points, a one-step spike and a NaN', async () => {
    const rows = Array.from({ length: 5000 }, (_, step) => ({
      step,
      epoch: Math.floor(step / 100) + 1,
      metrics: { loss: step === 3210 ? 500 : step === 4321 ? NaN : step === 1234 ? -7 : 10 + Math.sin(step / 50) },
    }));
    await ingestSynthetic(store, a, dir, 'a', rows);
    for (const maxPoints of [2, 3, 50, 200, 1000]) {
      const [series] = querySeries(store, { trainingIds: [a], tag: 'loss', maxPoints });
      const steps = series!.points.map((p) => p.step);
      assert.equal(series!.totalPoints, 5000);
      assert.ok(steps.length <= maxPoints, `${steps.length} > ${maxPoints}`);
      assert.equal(steps[0], 0);
      assert.equal(steps.at(-1), 4999);
      assert.deepEqual(
        steps,
        [...steps].sort((x, y) => x - y),
      );
      if (maxPoints >= 50) {
        assert.ok(steps.includes(3210), `spike kept at maxPoints=${maxPoints}`);
        assert.ok(steps.includes(1234), `dip kept at maxPoints=${maxPoints}`);
        assert.ok(
          series!.points.some((p) => Number.isNaN(p.value)),
          `NaN kept at maxPoints=${maxPoints}`,
        );
      }
    }
    const all = querySeries(store, { trainingIds: [a], tag: 'loss' })[0]!;
    assert.equal(all.points.length, 5000);
    const zoom = querySeries(store, { trainingIds: [a], tag: 'loss', range: [3000, 3500], maxPoints: 20 })[0]!;
    assert.equal(zoom.totalPoints, 501);
    assert.ok(zoom.points.every((p) => p.step >= 3000 && p.step <= 3500));
    assert.ok(zoom.points.some((p) => p.step === 3210));
  });

  it('places points on the step, epoch, relative and wall axes, for several trainings at once', async () => {
    await ingestSynthetic(store, a, dir, 'a', [
      { step: 10, epoch: 1, ts: 5000, metrics: { loss: 3 } },
      { step: 20, epoch: 2, ts: 7500, metrics: { loss: 2 } },
    ]);
    await ingestSynthetic(store, b, dir, 'b', [{ step: 5, epoch: 1, ts: 100, metrics: { loss: 9 } }]);
    const x = (axis: 'step' | 'epoch' | 'relative' | 'wall'): (number | null)[][] =>
      querySeries(store, { trainingIds: [a, b], tag: 'loss', x: axis }).map((s) => s.points.map((p) => p.x));
    assert.deepEqual(x('step'), [[10, 20], [5]]);
    assert.deepEqual(x('epoch'), [[1, 2], [1]]);
    assert.deepEqual(x('relative'), [[0, 2500], [0]]);
    assert.deepEqual(x('wall'), [[5000, 7500], [100]]);
    assert.deepEqual(querySeries(store, { trainingIds: [a], tag: 'nope' })[0]!.points, []);
  });

  it('lists tags and summarises each: last, lowest finite value and its step', async () => {
    await ingestSynthetic(store, a, dir, 'a', [
      { step: 0, metrics: { loss: 5, grad: Infinity } },
      { step: 1, metrics: { loss: 2, grad: 3 } },
      { step: 2, metrics: { loss: NaN, grad: -Infinity } },
      { step: 3, metrics: { loss: 4, grad: 1 } },
    ]);
    assert.deepEqual(metricTags(store, a), ['grad', 'loss']);
    assert.deepEqual(metricTags(store, b), []);
    const summary = Object.fromEntries(tagSummaries(store, a).map((s) => [s.tag, s]));
    assert.deepEqual(summary['loss'], { tag: 'loss', count: 4, last: 4, lastStep: 3, min: 2, minStep: 1 });
    assert.deepEqual(summary['grad'], { tag: 'grad', count: 4, last: 1, lastStep: 3, min: 1, minStep: 3 });
  });
});

describe('metrics: best epoch and overtraining (synthetic curves)', () => {
  const curve = (epochs: number, f: (e: number) => number, perEpoch = 4): EpochValue[] =>
    Array.from({ length: epochs * perEpoch }, (_, i) => ({ epoch: Math.floor(i / perEpoch) + 1, value: f(Math.floor(i / perEpoch) + 1) }));

  it('smooths like TensorBoard: debiased EMA, non-finite values passed through', () => {
    const s = smoothDebiased([10, 20, NaN, 30], 0.6);
    assert.equal(s[0], 10);
    assert.ok(Math.abs(s[1]! - (0.6 * 0.4 * 10 + 0.4 * 20) / (1 - 0.36)) < 1e-12);
    assert.ok(Number.isNaN(s[2]!));
    assert.deepEqual(smoothDebiased([1, 2, 3], 0), [1, 2, 3]);
  });

  it('a steadily falling loss: the last saved epoch is best, no warning', () => {
    const result = analyzeEpochs(
      'loss/g/total',
      curve(50, (e) => 100 / e),
      [10, 20, 30, 40, 50],
    );
    assert.deepEqual(result.best, { epoch: 50, smoothed: result.perEpoch.at(-1)!.smoothed, saved: true });
    assert.equal(result.overtraining, null);
  });

  it('a U-shaped loss: the saved epoch nearest the valley is best, and overtraining is flagged', () => {
    const result = analyzeEpochs(
      'loss/g/total',
      curve(100, (e) => 30 + ((e - 40) / 10) ** 2),
      [20, 35, 45, 60, 80, 100],
      { patience: 20 },
    );
    assert.ok(result.best!.epoch === 45 || result.best!.epoch === 35, `best ${result.best!.epoch}`);
    assert.equal(result.best!.saved, true);
    assert.ok(result.overtraining);
    assert.ok(result.overtraining.sinceEpoch >= 40 && result.overtraining.sinceEpoch <= 46, `since ${result.overtraining.sinceEpoch}`);
    assert.match(result.overtraining.message, /has not improved for \d+ epochs/);
  });

  it('a single-epoch dip does not win over a sustained low: smoothing decides, not one noisy epoch', () => {
    const values = (e: number): number => (e === 12 ? 5 : e <= 20 ? 30 - e * 0.1 : 15);
    const result = analyzeEpochs('loss/g/total', curve(30, values), [12, 28]);
    assert.equal(result.best!.epoch, 28);
    assert.equal(analyzeEpochs('loss/g/total', curve(30, values), [12, 28], { smoothing: 0 }).best!.epoch, 12);
  });

  it('ignores NaN/Inf steps and falls back to the best unsaved epoch when no small model was saved', () => {
    const points = curve(10, (e) => 20 - e).map((p, i) =>
      i % 3 === 0 ? { ...p, value: NaN } : i % 5 === 0 ? { ...p, value: Infinity } : p,
    );
    const result = analyzeEpochs('loss/g/total', points, []);
    assert.deepEqual([result.best!.epoch, result.best!.saved], [10, false]);
    assert.ok(result.perEpoch.every((p) => Number.isFinite(p.smoothed)));
  });

  it('bestEpochOf reads the stored generator loss and names the small model file', async () => {
    const { dir, cleanup } = makeTempDir();
    const store = Store.open(dir);
    try {
      const id = new TrainingRepository(store).create({ name: 'u' }).id;
      const rows = Array.from({ length: 60 }, (_, e) => ({
        step: e * 10,
        epoch: e + 1,
        metrics: { 'loss/g/total': 30 + ((e + 1 - 20) / 5) ** 2 },
      }));
      await ingestSynthetic(store, id, dir, 'u', rows);
      const weights = [10, 20, 30].map((e) => ({
        kind: 'weights' as const,
        path: path.join(dir, `u_e${e}_s${e * 10}.pth`),
        size: 1,
        mtimeMs: 1,
        epoch: e,
        step: e * 10,
      }));
      for (const w of weights) fs.writeFileSync(w.path, 'x');
      await syncArtifacts(store, id, weights);
      const result = bestEpochOf(store, id)!;
      assert.equal(result.tag, 'loss/g/total');
      assert.equal(result.best!.epoch, 20);
      assert.equal(result.bestModelPath, weights[1]!.path);
      assert.ok(result.overtraining);
    } finally {
      store.close();
      cleanup();
    }
  });
});
