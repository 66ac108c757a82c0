import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseJsonlLines, parseJsonWithNonFinite } from '../../../src/core/metrics/jsonlReader.ts';
import { ingestMetricFile, ingestTrainingMetrics } from '../../../src/core/metrics/metricsIngester.ts';
import { querySeries } from '../../../src/core/metrics/metricsQuery.ts';
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import { encodeEvent } from '../../bench/metricsTfeventsWriter.ts';

describe('metrics: train_events.jsonl', () => {
  it('parses records with Python’s NaN/Infinity tokens and string spellings; counts unusable lines', () => {
    const { points, badLines } = parseJsonlLines([
      '{"ts": 1700000000000, "step": 10, "epoch": 2, "metrics": {"loss/g/total": 31.5, "grad_norm_g": NaN, "grad_norm_d": -Infinity}}',
      '{"ts": 1700000001000, "step": 12, "epoch": 2, "metrics": {"loss/g/total": "Infinity", "note": "NaN-ish text"}}',
      '{"step": "x", "metrics": {}}',
      'not json',
      '',
    ]);
    assert.equal(badLines, 2);
    assert.deepEqual(
      points.map((p) => [p.tag, p.step, p.value, p.epoch, p.wallTimeMs]),
      [
        ['loss/g/total', 10, 31.5, 2, 1700000000000],
        ['grad_norm_g', 10, NaN, 2, 1700000000000],
        ['grad_norm_d', 10, -Infinity, 2, 1700000000000],
        ['loss/g/total', 12, Infinity, 2, 1700000001000],
      ],
    );
    assert.deepEqual(parseJsonWithNonFinite('{"a": "NaN in a string", "b": [NaN, Infinity]}'), {
      a: 'NaN in a string',
      b: [NaN, Infinity],
    });
  });

  describe('ingestion', () => {
    let dir: string;
    let cleanup: () => void;
    let store: Store;
    let trainingId: string;
    beforeEach(() => {
      ({ dir, cleanup } = makeTempDir());
      store = Store.open(dir);
      trainingId = new TrainingRepository(store).create({ name: 'wrapped' }).id;
    });
    afterEach(() => {
      store.close();
      cleanup();
    });

    it('leaves a partial last line for later, and yields to the events file at shared steps', async () => {
      const logs = path.join(dir, 'logs', 'wrapped');
      fs.mkdirSync(logs, { recursive: true });
      const jsonl = path.join(logs, 'train_events.jsonl');
      fs.writeFileSync(jsonl, '{"ts": 1000, "step": 0, "epoch": 1, "metrics": {"loss/g/total": 50.25}}\n{"ts": 2000, "step": 1, "ep');
      const first = await ingestMetricFile(store, trainingId, jsonl, 'jsonl');
      assert.deepEqual([first.newPoints, first.badRecords], [1, 0]);
      fs.appendFileSync(jsonl, 'och": 1, "metrics": {"loss/g/total": 49.5}}\n');
      fs.writeFileSync(
        path.join(logs, 'events.out.tfevents.1.host.1.0'),
        encodeEvent(0.5, 0, [{ tag: 'loss/g/total', value: 50.2500114 }]),
      );
      const report = await ingestTrainingMetrics(store, trainingId, logs);
      assert.deepEqual(
        report.sources.map((s) => [path.basename(s.path), s.newPoints]),
        [
          ['events.out.tfevents.1.host.1.0', 1],
          ['train_events.jsonl', 1],
        ],
      );
      const [series] = querySeries(store, { trainingIds: [trainingId], tag: 'loss/g/total' });
      assert.deepEqual(
        series!.points.map((p) => [p.step, p.value, p.epoch]),
        [
          [0, Math.fround(50.2500114), 1],
          [1, 49.5, 1],
        ],
      );
      const again = await ingestTrainingMetrics(store, trainingId, logs);
      assert.equal(again.newPoints, 0, 're-ingesting changes nothing');
    });
  });
});
