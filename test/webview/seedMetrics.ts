// Writes metric rows straight into a real store, the way the metrics ingester stores them, so the
// panel's host can be exercised without parsing log files.
import { databaseOf, type Store } from '../../src/core/store/store.ts';

export interface SeedPoint {
  step: number;
  value: number;
  epoch: number | null;
  wallTimeMs: number | null;
}

export function seedSeries(store: Store, trainingId: string, tag: string, points: Iterable<SeedPoint>): number {
  const db = databaseOf(store);
  db.prepare('INSERT OR IGNORE INTO metric_series (training_id, tag) VALUES (?, ?)').run(trainingId, tag);
  const seriesId = db.prepare('SELECT id FROM metric_series WHERE training_id = ? AND tag = ?').pluck().get(trainingId, tag) as number;
  const insert = db.prepare(
    "INSERT OR REPLACE INTO metrics (series_id, step, value, wall_time_ms, epoch, source, source_rank) VALUES (?, ?, ?, ?, ?, 'tfevents', 3)",
  );
  let n = 0;
  store.transaction(() => {
    for (const p of points) {
      // SQLite stores a bound NaN as NULL; that is the schema's spelling of NaN.
      insert.run(seriesId, p.step, Number.isNaN(p.value) ? null : p.value, p.wallTimeMs, p.epoch);
      n++;
    }
  });
  return n;
}

export function seedArtifact(
  store: Store,
  trainingId: string,
  kind: string,
  filePath: string,
  epoch: number | null,
  step: number | null,
): void {
  databaseOf(store)
    .prepare('INSERT INTO artifacts (training_id, kind, path, epoch, step) VALUES (?, ?, ?, ?, ?)')
    .run(trainingId, kind, filePath, epoch, step);
}
