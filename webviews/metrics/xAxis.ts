import type { XAxisMode } from '../../src/protocol/metricsPanel.ts';
import type { Series } from './seriesStore.ts';

/** Where point i of a series sits on the x axis; NaN (a gap) when the point lacks that coordinate. */
export function xOf(series: Series, i: number, mode: XAxisMode): number {
  switch (mode) {
    case 'step':
      return series.steps[i]!;
    case 'epoch':
      return epochLayout(series)[i]!;
    case 'wall':
      return series.wallTimesMs[i] ?? NaN;
    case 'relative': {
      const first = firstWallTime(series);
      const wall = series.wallTimesMs[i];
      return wall == null || first === undefined ? NaN : wall - first;
    }
  }
}

const layouts = new WeakMap<Series, { n: number; xs: Float64Array }>();

/**
 * Points spread evenly through their epoch instead of all sitting on its integer: epoch e's points
 * fill (e − 1, e], so the curve has no vertical cliff at each epoch and an epoch marker (at e) sits
 * where that epoch ends. The epoch still running is laid out as long as a finished one (the median
 * count), so its points do not move as more arrive.
 */
export function epochLayout(series: Series): Float64Array {
  const n = series.steps.length;
  const cached = layouts.get(series);
  if (cached && cached.n === n) return cached.xs;
  const xs = new Float64Array(n).fill(NaN);
  const runs: { epoch: number; indices: number[] }[] = [];
  for (let i = 0; i < n; i++) {
    const epoch = series.epochs[i];
    if (epoch == null) continue;
    const last = runs[runs.length - 1];
    if (last && last.epoch === epoch) last.indices.push(i);
    else runs.push({ epoch, indices: [i] });
  }
  const finished = runs
    .slice(0, -1)
    .map((r) => r.indices.length)
    .sort((a, b) => a - b);
  const expected = finished.length > 0 ? finished[Math.floor(finished.length / 2)]! : 0;
  runs.forEach((run, r) => {
    const count = r === runs.length - 1 ? Math.max(expected, run.indices.length) : run.indices.length;
    run.indices.forEach((i, k) => (xs[i] = run.epoch - 1 + (k + 1) / count));
  });
  layouts.set(series, { n, xs });
  return xs;
}

function firstWallTime(series: Series): number | undefined {
  for (const wall of series.wallTimesMs) if (wall != null) return wall;
  return undefined;
}

export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

export function formatX(value: number, mode: XAxisMode): string {
  switch (mode) {
    case 'step':
    case 'epoch':
      return Number.isInteger(value) ? String(value) : value.toFixed(1);
    case 'relative':
      return formatDuration(value);
    case 'wall':
      return new Date(value).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }
}

/** Tick labels: exponents for tiny or huge values (learning rates), at most four significant digits otherwise. */
export function formatTick(value: number, format?: 'exp'): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (format === 'exp' || abs < 1e-3 || abs >= 1e5) return value.toExponential(1).replace('e+', 'e');
  return String(Number(value.toPrecision(4)));
}

/** The step range covered by the points whose x lies in [min, max]: what the host re-queries on zoom. */
export function stepRangeFor(series: Series[], mode: XAxisMode, min: number, max: number): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.steps.length; i++) {
      const x = xOf(s, i, mode);
      if (x >= min && x <= max) {
        lo = Math.min(lo, s.steps[i]!);
        hi = Math.max(hi, s.steps[i]!);
      }
    }
  }
  return lo <= hi ? [lo, hi] : null;
}
