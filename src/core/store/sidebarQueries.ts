import { databaseOf, type Store } from './store.ts';

/**
 * Small read queries behind the sidebar views (and anything else that shows a summary). They read
 * rows other modules write; each is one indexed query so a refresh after every event stays cheap.
 */

export interface LatestMetric {
  tag: string;
  step: number;
  epoch: number | null;
  value: number;
}

/** The newest point of the first tag in `tags` that has any point for the training. */
export function latestMetric(store: Store, trainingId: string, tags: readonly string[]): LatestMetric | undefined {
  const query = databaseOf(store).prepare(
    `SELECT s.tag AS tag, m.step AS step, m.epoch AS epoch, m.value AS value
       FROM metric_series s JOIN metrics m ON m.series_id = s.id
      WHERE s.training_id = ? AND s.tag = ?
      ORDER BY m.step DESC LIMIT 1`,
  );
  for (const tag of tags) {
    const row = query.get(trainingId, tag) as { tag: string; step: number; epoch: number | null; value: number | null } | undefined;
    if (row) return { tag: row.tag, step: row.step, epoch: row.epoch, value: row.value ?? Number.NaN };
  }
  return undefined;
}

export interface MetricsSummary {
  series: number;
  points: number;
  lastStep: number | null;
  lastEpoch: number | null;
}

export function metricsSummary(store: Store, trainingId: string): MetricsSummary {
  const row = databaseOf(store)
    .prepare(
      `SELECT count(DISTINCT s.id) AS series, count(m.step) AS points, max(m.step) AS lastStep, max(m.epoch) AS lastEpoch
         FROM metric_series s LEFT JOIN metrics m ON m.series_id = s.id
        WHERE s.training_id = ?`,
    )
    .get(trainingId) as { series: number; points: number; lastStep: number | null; lastEpoch: number | null };
  return row;
}

/** Ids of trainings that have a live (not deleted) index file: train_index has run for them. */
export function trainingsWithIndex(store: Store): Set<string> {
  const rows = databaseOf(store)
    .prepare("SELECT DISTINCT training_id AS id FROM artifacts WHERE kind = 'index' AND deleted_at IS NULL")
    .all() as { id: string }[];
  return new Set(rows.map((r) => r.id));
}
