import type { XAxisMode } from '../../src/protocol/metricsPanel.ts';
import type { Series } from './seriesStore.ts';

/** Where point i of a series sits on the x axis; NaN (a gap) when the point lacks that coordinate. */
export function xOf(series: Series, i: number, mode: XAxisMode): number {
  switch (mode) {
    case 'step':
      return series.steps[i]!;
    case 'epoch':
      return series.epochs[i] ?? NaN;
    case 'wall':
      return series.wallTimesMs[i] ?? NaN;
    case 'relative': {
      const first = firstWallTime(series);
      const wall = series.wallTimesMs[i];
      return wall == null || first === undefined ? NaN : wall - first;
    }
  }
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

export const X_AXIS_LABELS: Record<XAxisMode, string> = { step: 'Step', epoch: 'Epoch', relative: 'Relative time', wall: 'Wall time' };

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
