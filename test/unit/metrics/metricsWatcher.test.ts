import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { MetricPointEvent } from '../../../src/core/events.ts';
import { watchTrainingMetrics, type MetricsWatcher } from '../../../src/core/metrics/metricsWatcher.ts';
import { databaseOf, Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { makeTempDir } from '../../support/tempDir.ts';

const LINES = (step: number, epoch: number): string =>
  `INFO:w:Train Epoch: ${epoch} [0%]\nINFO:w:[${step}, 0.0001]\nINFO:w:loss_disc=9.${step}, loss_gen=8.000, loss_fm=1.000,loss_mel=70.000, loss_kl=9.000\n`;

function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('timed out waiting for the watcher'));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe('metrics: watcher', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  let trainingId: string;
  let logs: string;
  let watcher: MetricsWatcher | undefined;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    store = Store.open(dir);
    trainingId = new TrainingRepository(store).create({ name: 'w' }).id;
    logs = path.join(dir, 'logs', 'w');
    fs.mkdirSync(logs, { recursive: true });
  });
  afterEach(() => {
    watcher?.dispose();
    store.close();
    cleanup();
  });

  for (const forcePolling of [false, true]) {
    it(`${forcePolling ? 'falls back to polling and still' : 'with fs.watch,'} emits only the new points, debounced`, async () => {
      const appended: MetricPointEvent[][] = [];
      store.events.on('metricsAppended', (e) => appended.push(e.points));
      let rounds = 0;
      watcher = watchTrainingMetrics(store, trainingId, logs, [], { debounceMs: 50, pollMs: 100, forcePolling, onIngest: () => rounds++ });
      assert.equal(watcher.mode, forcePolling ? 'poll' : 'watch');
      const log = path.join(logs, 'train.log');
      // Tab-less lines are the stdout form; train.log accepts both.
      fs.writeFileSync(log, LINES(0, 1));
      fs.appendFileSync(log, LINES(1, 1));
      await waitFor(() => appended.flat().length === 12);
      fs.appendFileSync(log, LINES(2, 1));
      await waitFor(() => appended.flat().length === 18);
      const last = appended.at(-1)!;
      assert.deepEqual([...new Set(last.map((p) => p.step))], [2], 'only the new step was emitted');
      assert.ok(rounds >= 2);
    });
  }

  it('falls back to polling when the folder cannot be watched (it does not exist yet)', async () => {
    const later = path.join(dir, 'logs', 'later');
    watcher = watchTrainingMetrics(store, trainingId, later, [], { pollMs: 50 });
    assert.equal(watcher.mode, 'poll');
    fs.mkdirSync(later);
    fs.writeFileSync(path.join(later, 'train.log'), LINES(0, 1));
    await waitFor(() => (databaseOf(store).prepare('SELECT count(*) FROM metrics').pluck().get() as number) === 6);
  });
});
