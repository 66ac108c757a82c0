// Metrics benchmarks: ingest rate of a 1M-scalar events file, and a 1M-point series queried down
// to 2,000 points — each against a baseline measured in the same run.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ingestMetricFile } from '../../src/core/metrics/metricsIngester.ts';
import { querySeries } from '../../src/core/metrics/metricsQuery.ts';
import { databaseOf, Store } from '../../src/core/store/store.ts';
import { TrainingRepository } from '../../src/core/store/trainings.ts';
import { medianMs, timeMs, timeMsAsync, type BenchResult } from './benchResult.ts';
import { encodeEvent } from './metricsTfeventsWriter.ts';

const TAGS = [
  'loss/g/total',
  'loss/d/total',
  'loss/g/fm',
  'loss/g/mel',
  'loss/g/kl',
  'learning_rate',
  'grad_norm_g',
  'grad_norm_d',
  'loss/g/0',
  'loss/d_r/0',
];
const SCALARS = 1_000_000;

/** An events file as PyTorch writes it: one Event per add_scalar call, 10 tags per step. */
function writeEventsFile(file: string): void {
  const steps = SCALARS / TAGS.length;
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, encodeEvent(1.7e9, 0, { fileVersion: 'brain.Event:2' }));
    const parts: Uint8Array[] = [];
    let bytes = 0;
    for (let step = 0; step < steps; step++) {
      for (let t = 0; t < TAGS.length; t++) {
        const value = step % 997 === 0 && t === 6 ? NaN : 50 / (1 + step / 1000) + t + Math.sin(step) * 0.1;
        const record = encodeEvent(1.7e9 + step * 0.5, step, [{ tag: TAGS[t]!, value }]);
        parts.push(record);
        bytes += record.length;
      }
      if (bytes > 4 << 20) {
        fs.writeSync(fd, Buffer.concat(parts));
        parts.length = 0;
        bytes = 0;
      }
    }
    fs.writeSync(fd, Buffer.concat(parts));
  } finally {
    fs.closeSync(fd);
  }
}

/** The same min/max-bucket downsampling done the naive way: every row into JavaScript, then bucketed. */
function naiveDownsample(store: Store, seriesId: number, maxPoints: number): number {
  const rows = databaseOf(store).prepare('SELECT step, value FROM metrics WHERE series_id = ? ORDER BY step').raw().all(seriesId) as [
    number,
    number | null,
  ][];
  const buckets = Math.floor((maxPoints - 2) / 2);
  const first = rows[0]![0];
  const span = rows.at(-1)![0] - first + 1;
  const min = new Array<number>(buckets).fill(-1);
  const max = new Array<number>(buckets).fill(-1);
  for (let i = 0; i < rows.length; i++) {
    const [step, value] = rows[i]!;
    if (value === null) continue;
    const b = Math.floor(((step - first) * buckets) / span);
    if (min[b] === -1 || value < rows[min[b]!]![1]!) min[b] = i;
    if (max[b] === -1 || value > rows[max[b]!]![1]!) max[b] = i;
  }
  return new Set([0, rows.length - 1, ...min, ...max].filter((i) => i >= 0)).size;
}

export async function run(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-bench-metrics-'));
  try {
    const results: BenchResult[] = [];
    const events = path.join(dir, 'events.out.tfevents.1700000000.bench.1.0');
    writeEventsFile(events);
    const mb = fs.statSync(events).size / 1e6;

    // Baseline: the floor for storing the same points — pre-parsed rows, one prepared INSERT each, one transaction.
    const baseStore = Store.open(fs.mkdtempSync(path.join(dir, 'base-')));
    const baseId = new TrainingRepository(baseStore).create({ name: 'base' }).id;
    const seriesIds = TAGS.map((tag) => {
      databaseOf(baseStore).prepare('INSERT INTO metric_series (training_id, tag) VALUES (?, ?)').run(baseId, tag);
      return databaseOf(baseStore)
        .prepare('SELECT id FROM metric_series WHERE training_id = ? AND tag = ?')
        .pluck()
        .get(baseId, tag) as number;
    });
    const insert = databaseOf(baseStore).prepare(
      "INSERT INTO metrics (series_id, step, value, wall_time_ms, epoch, source, source_rank) VALUES (?, ?, ?, ?, NULL, 'tfevents', 3)",
    );
    const baseline = timeMs(() =>
      baseStore.transaction(() => {
        for (let step = 0; step < SCALARS / TAGS.length; step++) {
          for (let t = 0; t < TAGS.length; t++) insert.run(seriesIds[t], step, 50 / (1 + step / 1000) + t, 1.7e12 + step * 500);
        }
      }),
    ).ms;
    baseStore.close();

    const store = Store.open(fs.mkdtempSync(path.join(dir, 'ws-')));
    const trainingId = new TrainingRepository(store).create({ name: 'bench' }).id;
    const ingest = await timeMsAsync(() => ingestMetricFile(store, trainingId, events, 'tfevents'));
    if (ingest.result.newPoints !== SCALARS) throw new Error(`ingested ${ingest.result.newPoints} points, expected ${SCALARS}`);
    const rate = SCALARS / (ingest.ms / 1000);
    const baseRate = SCALARS / (baseline / 1000);
    results.push({
      name: `ingest 1M-scalar events file (${mb.toFixed(1)} MB: read, CRC, decode, upsert, offsets)`,
      value: rate,
      unit: 'points/s',
      baseline: { name: 'plain INSERT of the same points, pre-parsed, one transaction', value: baseRate },
      ratio: rate / baseRate,
    });
    const reread = await timeMsAsync(() => ingestMetricFile(store, trainingId, events, 'tfevents'));
    results.push({ name: 'ingest again with nothing new (stored offset)', value: reread.ms, unit: 'ms' });

    // One series of 1M points → 2,000.
    databaseOf(store).prepare('INSERT INTO metric_series (training_id, tag) VALUES (?, ?)').run(trainingId, 'big');
    const bigId = databaseOf(store).prepare("SELECT id FROM metric_series WHERE tag = 'big'").pluck().get() as number;
    databaseOf(store)
      .prepare(
        `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 999999)
         INSERT INTO metrics (series_id, step, value, wall_time_ms, epoch, source, source_rank)
         SELECT ?, i, CASE WHEN i % 100003 = 0 THEN 1e6 ELSE 10.0 / (1 + i / 1000.0) END, 1.7e12 + i * 500.0, i / 1000 + 1, 'tfevents', 3 FROM s`,
      )
      .run(bigId);
    let kept = 0;
    const ours = medianMs(5, () => {
      kept = querySeries(store, { trainingIds: [trainingId], tag: 'big', maxPoints: 2000 })[0]!.points.length;
    });
    let naiveKept = 0;
    const naive = medianMs(3, () => {
      naiveKept = naiveDownsample(store, bigId, 2000);
    });
    results.push({
      name: `query 1M points → ≤2,000 (min/max buckets in SQLite; kept ${kept}, naive kept ${naiveKept})`,
      value: ours,
      unit: 'ms',
      baseline: { name: 'all rows into JS, then the same buckets', value: naive },
      ratio: naive / ours,
    });
    store.close();
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
