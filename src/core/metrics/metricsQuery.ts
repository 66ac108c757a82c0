import type { Store } from '../store/store.ts';
import { firstWallTime, metricTags, readDownsampled, seriesIdOf, seriesSummaryRows, type MetricRow } from '../store/metricsRepository.ts';

export { metricTags };

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

export function querySeries(store: Store, query: SeriesQuery): SeriesResult[] {
  const x = query.x ?? 'step';
  return query.trainingIds.map((trainingId) => {
    const seriesId = seriesIdOf(store, trainingId, query.tag);
    if (seriesId === undefined) return { trainingId, tag: query.tag, points: [], totalPoints: 0 };
    const lo = query.range ? Math.ceil(query.range[0]) : Number.MIN_SAFE_INTEGER;
    const hi = query.range ? Math.floor(query.range[1]) : Number.MAX_SAFE_INTEGER;
    const { rows, total } = readDownsampled(store, seriesId, lo, hi, query.maxPoints);
    const firstWall = x === 'relative' ? firstWallTime(store, seriesId) : undefined;
    const points = rows.map((row) => toPoint(row, x, firstWall));
    return { trainingId, tag: query.tag, points, totalPoints: total };
  });
}

function toPoint(row: MetricRow, x: XAxis, firstWall: number | undefined): SeriesPoint {
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

/** Per tag: point count, last value and step, lowest finite value and its step. */
export function tagSummaries(store: Store, trainingId: string): TagSummary[] {
  return seriesSummaryRows(store, trainingId).map(({ tag, count, last, min }) => ({
    tag,
    count,
    last: last.value === null ? NaN : last.value,
    lastStep: last.step,
    min: min.value,
    minStep: min.value === null ? null : min.step,
  }));
}
