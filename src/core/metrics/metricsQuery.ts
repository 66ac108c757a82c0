import type { Store } from '../store/store.ts';

/**
 * What the metrics panel, the tree views and the CLI read: tags, downsampled series, per-tag
 * summaries. NaN is stored as NULL (SQLite's rendering of a bound NaN) and comes back as NaN here.
 */

export type XAxis = 'step' | 'epoch' | 'relative' | 'wall';
export const X_AXES: readonly XAxis[] = ['step', 'epoch', 'relative', 'wall'];

export interface SeriesPoint {
  /** The x value for the requested axis; null where that axis has no value (no epoch, no wall time). */
  x: number | null;
  step: number;
  value: number;
  wallTimeMs: number | null;
  epoch: number | null;
}

export interface SeriesResult {
  trainingId: string;
  tag: string;
  points: SeriesPoint[];
  /** Points stored in the requested range; more than `points.length` means it was downsampled. */
  totalPoints: number;
}

export interface SeriesQuery {
  trainingIds: string[];
  tag: string;
  x?: XAxis;
  /** At most this many points per series (≥ 2: first and last); omitted = every point. */
  maxPoints?: number;
  /** Inclusive step range, e.g. the zoomed part of a chart. */
  range?: [number, number];
}

export interface TagSummary {
  tag: string;
  count: number;
  last: number;
  lastStep: number;
  /** Lowest finite value and its step; null when the series has no finite value. */
  min: number | null;
  minStep: number | null;
}

interface Row {
  step: number;
  value: number | null;
  wall_time_ms: number | null;
  epoch: number | null;
}

export function metricTags(store: Store, trainingId: string): string[] {
  return store.db
    .prepare(
      `SELECT s.tag FROM metric_series s WHERE s.training_id = ? AND EXISTS (SELECT 1 FROM metrics m WHERE m.series_id = s.id) ORDER BY s.tag`,
    )
    .pluck()
    .all(trainingId) as string[];
}

function seriesIdOf(store: Store, trainingId: string, tag: string): number | undefined {
  return store.db.prepare('SELECT id FROM metric_series WHERE training_id = ? AND tag = ?').pluck().get(trainingId, tag) as number | undefined;
}

export function querySeries(store: Store, query: SeriesQuery): SeriesResult[] {
  const x = query.x ?? 'step';
  return query.trainingIds.map((trainingId) => {
    const seriesId = seriesIdOf(store, trainingId, query.tag);
    if (seriesId === undefined) return { trainingId, tag: query.tag, points: [], totalPoints: 0 };
    const lo = query.range ? Math.ceil(query.range[0]) : Number.MIN_SAFE_INTEGER;
    const hi = query.range ? Math.floor(query.range[1]) : Number.MAX_SAFE_INTEGER;
    const { rows, total } = readDownsampled(store, seriesId, lo, hi, query.maxPoints);
    const firstWall =
      x === 'relative'
        ? (store.db.prepare('SELECT wall_time_ms FROM metrics WHERE series_id = ? AND wall_time_ms IS NOT NULL ORDER BY step LIMIT 1').pluck().get(seriesId) as
            | number
            | undefined)
        : undefined;
    const points = rows.map((row) => toPoint(row, x, firstWall));
    return { trainingId, tag: query.tag, points, totalPoints: total };
  });
}

function toPoint(row: Row, x: XAxis, firstWall: number | undefined): SeriesPoint {
  const wall = row.wall_time_ms;
  let xValue: number | null;
  switch (x) {
    case 'step':
      xValue = row.step;
      break;
    case 'epoch':
      xValue = row.epoch;
      break;
    case 'wall':
      xValue = wall;
      break;
    case 'relative':
      xValue = wall === null || firstWall === undefined ? null : wall - firstWall;
      break;
    default: {
      const never: never = x;
      throw new Error(`unknown x axis ${String(never)}`);
    }
  }
  return { x: xValue, step: row.step, value: row.value === null ? NaN : row.value, wallTimeMs: wall, epoch: row.epoch };
}

/**
 * Min/max buckets over the step range: each of B = (maxPoints − 2) / 2 equal step intervals keeps
 * its lowest and highest point, so a spike survives however far the chart is zoomed out (a plain
 * stride or average would drop or flatten it). A bucket holding a NaN (RVC's fp16 overflow steps)
 * keeps its first NaN in place of its minimum, so divergence stays visible. The first and last
 * points are always kept. Each bucket is one primary-key range scan inside SQLite (no sort, no row
 * copied to JavaScript but the kept ones); NaN rows come from a partial index, as they are rare.
 */
function readDownsampled(store: Store, seriesId: number, lo: number, hi: number, maxPoints: number | undefined): { rows: Row[]; total: number } {
  const db = store.db;
  const limit = maxPoints === undefined ? Infinity : Math.max(2, Math.floor(maxPoints));
  // Counting stops at limit + 1: a long series is counted by the bucket scans below instead.
  const upTo = db
    .prepare('SELECT count(*) FROM (SELECT 1 FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ? LIMIT ?)')
    .pluck()
    .get(seriesId, lo, hi, Number.isFinite(limit) ? limit + 1 : -1) as number;
  if (upTo <= limit) {
    const rows = db.prepare('SELECT step, value, wall_time_ms, epoch FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ? ORDER BY step').all(seriesId, lo, hi) as Row[];
    return { rows, total: rows.length };
  }

  const first = db.prepare('SELECT min(step) FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?').pluck().get(seriesId, lo, hi) as number;
  const last = db.prepare('SELECT max(step) FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?').pluck().get(seriesId, lo, hi) as number;
  const buckets = Math.floor((limit - 2) / 2);
  const span = last - first + 1;
  const pointAt = db.prepare('SELECT step, value, wall_time_ms, epoch FROM metrics WHERE series_id = ? AND step = ?');
  const keep = new Map<number, Row>();
  keep.set(first, pointAt.get(seriesId, first) as Row);
  keep.set(last, pointAt.get(seriesId, last) as Row);
  let total = 0;
  if (buckets === 0) {
    total = db.prepare('SELECT count(*) FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?').pluck().get(seriesId, first, last) as number;
  } else {
    // SQLite returns the other columns of the row that holds the min()/max() ("bare columns"); the
    // bucket's row count rides along on the same scan.
    const minOf = db.prepare('SELECT step, min(value) AS value, wall_time_ms, epoch, count(*) AS n FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?');
    const maxOf = db.prepare('SELECT step, max(value) AS value, wall_time_ms, epoch FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ?');
    const nanRows = db
      .prepare('SELECT step, value, wall_time_ms, epoch FROM metrics WHERE series_id = ? AND value IS NULL AND step BETWEEN ? AND ? ORDER BY step')
      .all(seriesId, first, last) as Row[];
    const bucketOf = (step: number): number => Math.floor(((step - first) * buckets) / span);
    const firstNan = new Map<number, Row>();
    for (const row of nanRows) if (!firstNan.has(bucketOf(row.step))) firstNan.set(bucketOf(row.step), row);
    for (let b = 0; b < buckets; b++) {
      // Steps whose bucket is b: first + [ceil(b·span/B), ceil((b+1)·span/B)).
      const from = first + Math.ceil((b * span) / buckets);
      const to = first + Math.ceil(((b + 1) * span) / buckets) - 1;
      if (to < from) continue;
      const min = minOf.get(seriesId, from, to) as Row & { n: number };
      total += min.n;
      if (min.n === 0) continue;
      const max = maxOf.get(seriesId, from, to) as Row;
      const other = firstNan.get(b) ?? min;
      for (const row of [other, max]) {
        if (row.step !== null && (row.value !== null || firstNan.get(b) === row)) keep.set(row.step, { step: row.step, value: row.value, wall_time_ms: row.wall_time_ms, epoch: row.epoch });
      }
    }
  }
  const rows = [...keep.values()].sort((a, b) => a.step - b.step);
  return { rows, total };
}

/** Per tag: point count, last value and step, lowest finite value and its step. */
export function tagSummaries(store: Store, trainingId: string): TagSummary[] {
  const series = store.db.prepare('SELECT id, tag FROM metric_series WHERE training_id = ? ORDER BY tag').all(trainingId) as { id: number; tag: string }[];
  const lastRow = store.db.prepare('SELECT step, value FROM metrics WHERE series_id = ? ORDER BY step DESC LIMIT 1');
  const count = store.db.prepare('SELECT count(*) FROM metrics WHERE series_id = ?').pluck();
  // ±Infinity are not minima a user wants reported; NaN is NULL and already ignored by min().
  const minRow = store.db.prepare(
    "SELECT step, min(value) AS value FROM metrics WHERE series_id = ? AND value IS NOT NULL AND value NOT IN (9e999, -9e999)",
  );
  const out: TagSummary[] = [];
  for (const { id, tag } of series) {
    const last = lastRow.get(id) as { step: number; value: number | null } | undefined;
    if (!last) continue;
    const min = minRow.get(id) as { step: number | null; value: number | null };
    out.push({
      tag,
      count: count.get(id) as number,
      last: last.value === null ? NaN : last.value,
      lastStep: last.step,
      min: min.value,
      minStep: min.value === null ? null : min.step,
    });
  }
  return out;
}
