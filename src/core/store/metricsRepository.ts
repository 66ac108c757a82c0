import type { Statement } from 'better-sqlite3';
import type { MetricSourceKind } from './vocabulary.ts';
import { databaseOf, prepared, type Store } from './store.ts';

/**
 * The SQL over metric_sources, metric_series and metrics: what the ingester writes (statements
 * prepared once per store), what the query side reads (downsampling inside SQLite), epoch filling.
 * NaN is stored as NULL (SQLite's rendering of a bound NaN).
 */

export interface MetricRow {
  step: number;
  value: number | null;
  wall_time_ms: number | null;
  epoch: number | null;
}

export function metricTags(store: Store, trainingId: string): string[] {
  return prepared(
    store,
    `SELECT s.tag FROM metric_series s WHERE s.training_id = ? AND EXISTS (SELECT 1 FROM metrics m WHERE m.series_id = s.id) ORDER BY s.tag`,
    { pluck: true },
  ).all(trainingId) as string[];
}

export function seriesIdOf(store: Store, trainingId: string, tag: string): number | undefined {
  return prepared(store, 'SELECT id FROM metric_series WHERE training_id = ? AND tag = ?', { pluck: true }).get(trainingId, tag) as
    number | undefined;
}

/** The wall time of the series' first point that has one (the origin of the relative axis). */
export function firstWallTime(store: Store, seriesId: number): number | undefined {
  return prepared(store, 'SELECT wall_time_ms FROM metrics WHERE series_id = ? AND wall_time_ms IS NOT NULL ORDER BY step LIMIT 1', {
    pluck: true,
  }).get(seriesId) as number | undefined;
}

/**
 * Min/max buckets over the step range: each of B = (maxPoints − 2) / 2 equal step intervals keeps
 * its lowest and highest point, so a spike survives however far the chart is zoomed out (a plain
 * stride or average would drop or flatten it). A bucket holding a NaN (RVC's fp16 overflow steps)
 * keeps its first NaN in place of its minimum, so divergence stays visible. The first and last
 * points are always kept. Each bucket is one primary-key range scan inside SQLite (no sort, no row
 * copied to JavaScript but the kept ones); NaN rows come from a partial index, as they are rare.
 */
export function readDownsampled(
  store: Store,
  seriesId: number,
  lo: number,
  hi: number,
  maxPoints: number | undefined,
): { rows: MetricRow[]; total: number } {
  const limit = maxPoints === undefined ? Infinity : Math.max(2, Math.floor(maxPoints));
  // Counting stops at limit + 1: a long series is counted by the bucket scans below instead.
  const upTo = prepared(store, 'SELECT count(*) FROM (SELECT 1 FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ? LIMIT ?)', {
    pluck: true,
  }).get(seriesId, lo, hi, Number.isFinite(limit) ? limit + 1 : -1) as number;
  if (upTo <= limit) {
    const rows = prepared(
      store,
      'SELECT step, value, wall_time_ms, epoch FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ? ORDER BY step',
    ).all(seriesId, lo, hi) as MetricRow[];
    return { rows, total: rows.length };
  }

  const first = prepared(store, 'SELECT min(step) FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?', { pluck: true }).get(
    seriesId,
    lo,
    hi,
  ) as number;
  const last = prepared(store, 'SELECT max(step) FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?', { pluck: true }).get(
    seriesId,
    lo,
    hi,
  ) as number;
  const buckets = Math.floor((limit - 2) / 2);
  const span = last - first + 1;
  const pointAt = prepared(store, 'SELECT step, value, wall_time_ms, epoch FROM metrics WHERE series_id = ? AND step = ?');
  const keep = new Map<number, MetricRow>();
  keep.set(first, pointAt.get(seriesId, first) as MetricRow);
  keep.set(last, pointAt.get(seriesId, last) as MetricRow);
  let total = 0;
  if (buckets === 0) {
    total = prepared(store, 'SELECT count(*) FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?', { pluck: true }).get(
      seriesId,
      first,
      last,
    ) as number;
  } else {
    // SQLite returns the other columns of the row that holds the min()/max() ("bare columns"); the
    // bucket's row count rides along on the same scan.
    const minOf = prepared(
      store,
      'SELECT step, min(value) AS value, wall_time_ms, epoch, count(*) AS n FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?',
    );
    const maxOf = prepared(
      store,
      'SELECT step, max(value) AS value, wall_time_ms, epoch FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?',
    );
    const nanRows = prepared(
      store,
      'SELECT step, value, wall_time_ms, epoch FROM metrics WHERE series_id = ? AND value IS NULL AND step BETWEEN ? AND ? ORDER BY step',
    ).all(seriesId, first, last) as MetricRow[];
    const bucketOf = (step: number): number => Math.floor(((step - first) * buckets) / span);
    const firstNan = new Map<number, MetricRow>();
    for (const row of nanRows) if (!firstNan.has(bucketOf(row.step))) firstNan.set(bucketOf(row.step), row);
    for (let b = 0; b < buckets; b++) {
      // Steps whose bucket is b: first + [ceil(b·span/B), ceil((b+1)·span/B)).
      const from = first + Math.ceil((b * span) / buckets);
      const to = first + Math.ceil(((b + 1) * span) / buckets) - 1;
      if (to < from) continue;
      const min = minOf.get(seriesId, from, to) as MetricRow & { n: number };
      total += min.n;
      if (min.n === 0) continue;
      const max = maxOf.get(seriesId, from, to) as MetricRow;
      const other = firstNan.get(b) ?? min;
      for (const row of [other, max]) {
        if (row.step !== null && (row.value !== null || firstNan.get(b) === row))
          keep.set(row.step, { step: row.step, value: row.value, wall_time_ms: row.wall_time_ms, epoch: row.epoch });
      }
    }
  }
  const rows = [...keep.values()].sort((a, b) => a.step - b.step);
  return { rows, total };
}

export interface SeriesSummaryRow {
  tag: string;
  count: number;
  last: { step: number; value: number | null };
  /** Lowest finite value and its step (both null when there is none). */
  min: { step: number | null; value: number | null };
}

/** Per series with points: count, last point, lowest finite value. */
export function seriesSummaryRows(store: Store, trainingId: string): SeriesSummaryRow[] {
  const series = prepared(store, 'SELECT id, tag FROM metric_series WHERE training_id = ? ORDER BY tag').all(trainingId) as {
    id: number;
    tag: string;
  }[];
  const lastRow = prepared(store, 'SELECT step, value FROM metrics WHERE series_id = ? ORDER BY step DESC LIMIT 1');
  const count = prepared(store, 'SELECT count(*) FROM metrics WHERE series_id = ?', { pluck: true });
  // ±Infinity are not minima a user wants reported; NaN is NULL and already ignored by min().
  const minRow = prepared(
    store,
    'SELECT step, min(value) AS value FROM metrics WHERE series_id = ? AND value IS NOT NULL AND value NOT IN (9e999, -9e999)',
  );
  const out: SeriesSummaryRow[] = [];
  for (const { id, tag } of series) {
    const last = lastRow.get(id) as { step: number; value: number | null } | undefined;
    if (!last) continue;
    out.push({ tag, count: count.get(id) as number, last, min: minRow.get(id) as { step: number | null; value: number | null } });
  }
  return out;
}

/** A training's generator-loss values per epoch, in step order (for the best-epoch analysis). */
export function epochValues(store: Store, trainingId: string, tag: string): { epoch: number; value: number }[] {
  return prepared(
    store,
    `SELECT m.epoch AS epoch, m.value AS value FROM metrics m JOIN metric_series s ON s.id = m.series_id
      WHERE s.training_id = ? AND s.tag = ? AND m.epoch IS NOT NULL AND m.value IS NOT NULL ORDER BY m.step`,
  ).all(trainingId, tag) as { epoch: number; value: number }[];
}

/** Where an epoch ends on the step axis: its last logged step, or null. */
export function lastStepOfEpoch(store: Store, trainingId: string, epoch: number): number | null {
  return prepared(
    store,
    'SELECT max(m.step) FROM metrics m JOIN metric_series s ON s.id = m.series_id WHERE s.training_id = ? AND m.epoch = ?',
    {
      pluck: true,
    },
  ).get(trainingId, epoch) as number | null;
}

/**
 * Dates every point without an epoch (epoch = step / S + 1) and the G/D checkpoints named after
 * the global step at the end of their epoch (epoch = step / S), in one transaction.
 */
export function assignEpochs(store: Store, trainingId: string, stepsPerEpoch: number): void {
  store.transaction(() => {
    prepared(
      store,
      `UPDATE metrics SET epoch = step / CAST(? AS INTEGER) + 1
        WHERE epoch IS NULL AND series_id IN (SELECT id FROM metric_series WHERE training_id = ?)`,
    ).run(stepsPerEpoch, trainingId);
    prepared(
      store,
      `UPDATE artifacts SET epoch = step / CAST(? AS INTEGER)
        WHERE training_id = ? AND epoch IS NULL AND step > 0 AND step % CAST(? AS INTEGER) = 0 AND kind IN ('checkpoint_g', 'checkpoint_d')`,
    ).run(stepsPerEpoch, trainingId, stepsPerEpoch);
  });
}

/** Every metrics file registered for a training (a task's captured stdout among them), oldest first. */
export function registeredMetricSources(store: Store, trainingId: string): { path: string; kind: MetricSourceKind }[] {
  return prepared(store, 'SELECT path, kind FROM metric_sources WHERE training_id = ? ORDER BY id').all(trainingId) as {
    path: string;
    kind: MetricSourceKind;
  }[];
}

export interface MetricSourceRow {
  id: number;
  byte_offset: number;
  size: number;
  state: string;
}

/** The ingester's statements, prepared once per store: it runs them per point. */
export interface MetricIngestStatements {
  source: Statement;
  offsetOf: Statement;
  addSource: Statement;
  saveSource: Statement;
  seriesId: Statement;
  addSeries: Statement;
  upsert: Statement;
  epochOnly: Statement;
}

const statementCache = new WeakMap<Store, MetricIngestStatements>();

export function metricIngestStatements(store: Store): MetricIngestStatements {
  let s = statementCache.get(store);
  if (!s) {
    const db = databaseOf(store);
    s = {
      source: db.prepare('SELECT id, byte_offset, size, state FROM metric_sources WHERE training_id = ? AND path = ?'),
      offsetOf: db.prepare('SELECT byte_offset FROM metric_sources WHERE id = ?').pluck(),
      addSource: db.prepare(
        'INSERT INTO metric_sources (training_id, path, kind) VALUES (?, ?, ?) ON CONFLICT (training_id, path) DO NOTHING',
      ),
      saveSource: db.prepare(
        'UPDATE metric_sources SET byte_offset = ?, size = ?, mtime_ms = ?, state = ?, bad_records = bad_records + ?, updated_at = ? WHERE id = ?',
      ),
      seriesId: db.prepare('SELECT id FROM metric_series WHERE training_id = ? AND tag = ?').pluck(),
      addSeries: db.prepare('INSERT INTO metric_series (training_id, tag) VALUES (?, ?) ON CONFLICT (training_id, tag) DO NOTHING'),
      // The WHERE clause makes a lower-ranked source unable to overwrite the events file, and an
      // identical re-read a no-op (changes = 0), which is how "new" points are told apart.
      upsert: db.prepare(
        `INSERT INTO metrics (series_id, step, value, wall_time_ms, epoch, source, source_rank) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (series_id, step) DO UPDATE SET
           value = excluded.value,
           wall_time_ms = coalesce(excluded.wall_time_ms, metrics.wall_time_ms),
           epoch = coalesce(excluded.epoch, metrics.epoch),
           source = excluded.source,
           source_rank = excluded.source_rank
         WHERE excluded.source_rank >= metrics.source_rank
           AND (metrics.value IS NOT excluded.value OR metrics.source IS NOT excluded.source
                OR metrics.wall_time_ms IS NOT coalesce(excluded.wall_time_ms, metrics.wall_time_ms)
                OR metrics.epoch IS NOT coalesce(excluded.epoch, metrics.epoch))`,
      ),
      epochOnly: db.prepare('UPDATE metrics SET epoch = ? WHERE series_id = ? AND step = ? AND epoch IS NULL'),
    };
    statementCache.set(store, s);
  }
  return s;
}
