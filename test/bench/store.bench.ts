import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { databaseOf, Store } from '../../src/core/store/store.ts';
import { TrainingRepository } from '../../src/core/store/trainings.ts';
import { medianMs, timeMs, type BenchResult } from './benchResult.ts';

const POINTS = 1_000_000;
const BATCH = 10_000;
const AUTOCOMMIT_SAMPLE = 20_000;
const TRAININGS = 10_000;
const WORDS = ['soprano', 'tenor', 'breathy', 'kitchen', 'studio', 'choir', 'whisper', 'growl', 'anime', 'narrator'];

export async function run(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-studio-bench-'));
  const results: BenchResult[] = [];
  try {
    const store = Store.open(dir);
    const repo = new TrainingRepository(store);
    const training = repo.create({ name: 'bench' });
    const series = databaseOf(store).prepare('INSERT INTO metric_series (training_id, tag) VALUES (?, ?) RETURNING id');
    const batchedSeries = (series.get(training.id, 'loss/g/total') as { id: number }).id;
    const autoSeries = (series.get(training.id, 'loss/d/total') as { id: number }).id;
    const insert = databaseOf(store).prepare(
      "INSERT INTO metrics (series_id, step, value, wall_time_ms, epoch, source, source_rank) VALUES (?, ?, ?, ?, ?, 'tfevents', 3)",
    );

    const batched = timeMs(() => {
      const writeBatch = databaseOf(store).transaction((from: number) => {
        for (let step = from; step < from + BATCH; step++) insert.run(batchedSeries, step, Math.sin(step / 1000), 1.7e12 + step, step >> 8);
      });
      for (let from = 0; from < POINTS; from += BATCH) writeBatch(from);
    });
    // Autocommit pays a commit per row; 1M of them would take minutes, so the rate is sampled.
    const autocommit = timeMs(() => {
      for (let step = 0; step < AUTOCOMMIT_SAMPLE; step++) insert.run(autoSeries, step, Math.sin(step / 1000), 1.7e12 + step, step >> 8);
    });
    const batchedRate = POINTS / (batched.ms / 1000);
    const autoRate = AUTOCOMMIT_SAMPLE / (autocommit.ms / 1000);
    results.push({
      name: `insert ${POINTS.toLocaleString('en')} metric points, transactions of ${BATCH.toLocaleString('en')}`,
      value: batchedRate,
      unit: 'points/s',
      baseline: { name: `per-row autocommit (rate over ${AUTOCOMMIT_SAMPLE.toLocaleString('en')} rows)`, value: autoRate },
      ratio: batchedRate / autoRate,
    });

    store.transaction(() => {
      for (let i = 0; i < TRAININGS; i++) {
        repo.create({ name: `training-${i}`, notes: `${WORDS[i % WORDS.length]} take ${i} ${WORDS[(i * 7) % WORDS.length]}` });
      }
    });
    const firstPage = medianMs(9, () => repo.list({ limit: 50 }));
    const everything = medianMs(5, () => repo.list());
    results.push({
      name: `first page (50) of ${TRAININGS.toLocaleString('en')} trainings`,
      value: firstPage,
      unit: 'ms',
      baseline: { name: `all ${TRAININGS.toLocaleString('en')} trainings`, value: everything },
      ratio: everything / firstPage,
    });

    const fts = medianMs(9, () => repo.search('kitchen'));
    const like = medianMs(9, () =>
      databaseOf(store).prepare("SELECT id FROM trainings WHERE notes LIKE '%kitchen%' OR name LIKE '%kitchen%'").all(),
    );
    results.push({
      name: `FTS query over ${TRAININGS.toLocaleString('en')} trainings (${repo.search('kitchen', 100000).length} hits, first 50 returned)`,
      value: fts,
      unit: 'ms',
      baseline: { name: "LIKE '%word%' scan", value: like },
      ratio: like / fts,
    });
    store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
