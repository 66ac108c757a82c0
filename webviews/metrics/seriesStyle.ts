import type { ChartDataset } from 'chart.js';
import type { XAxisMode } from '../../src/protocol/metricsPanel.ts';
import { formatString } from '../../src/protocol/panelStrings.ts';
import { withAlpha } from '../shared/theme.ts';
import type { ChartSpec } from './chartGroups.ts';
import type { ChartView, DatasetMeta, Point, RunView } from './chartView.ts';
import { seriesKey, type Series, type SeriesStore } from './seriesStore.ts';
import { xOf } from './xAxis.ts';

const DASHES: number[][] = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

/**
 * Whether the chart draws smoothed values: not for a schedule (learning rate), not at smoothing 0.
 * Read from the store, whose weight changes before the panel re-renders with the new settings.
 */
export const smoothed = (spec: ChartSpec, store: SeriesStore): boolean => spec.smooth !== false && store.smoothing > 0;
export const onRightAxis = (spec: ChartSpec, tagIndex: number): boolean => spec.dualAxis === true && spec.tags.length > 1 && tagIndex > 0;

export interface SeriesStyle {
  color: string;
  dash: number[];
  label: string;
}

/** One training: each tag its own colour. Compare: each run its colour, tags told apart by dash. */
export function seriesStyle(
  view: Pick<ChartView, 'compare' | 'theme'>,
  tag: string,
  tagIndex: number,
  run: RunView,
  runIndex: number,
): SeriesStyle {
  const { compare, theme } = view;
  return {
    color: compare ? run.color : theme.palette[tagIndex % theme.palette.length]!,
    dash: compare ? DASHES[tagIndex % DASHES.length]! : DASHES[runIndex % DASHES.length]!,
    label: compare ? `${run.name} · ${tag}` : tag,
  };
}

function yFor(value: number, logScale: boolean): number {
  if (!Number.isFinite(value)) return NaN;
  return logScale && value <= 0 ? NaN : value;
}

export function pointsOf(series: Series, from: number, role: 'raw' | 'smoothed', mode: XAxisMode, logScale: boolean): Point[] {
  const source = role === 'raw' ? series.values : series.smoothed;
  const out: Point[] = [];
  for (let i = from; i < series.steps.length; i++) out.push({ x: xOf(series, i, mode), y: yFor(source[i]!, logScale), i });
  return out;
}

/** The chart's datasets, and beside them which series and role each one draws. */
export function buildDatasets(view: ChartView): { datasets: ChartDataset<'line', Point[]>[]; meta: DatasetMeta[] } {
  const meta: DatasetMeta[] = [];
  const datasets: ChartDataset<'line', Point[]>[] = [];
  const wide = view.theme.highContrast ? 2.5 : 1.5;
  const { xAxis, logScale, showRaw } = view.settings;
  const smooth = smoothed(view.spec, view.store);
  view.spec.tags.forEach((tag, tagIndex) => {
    view.runs.forEach((run, runIndex) => {
      const series = view.store.get(run.trainingId, tag);
      if (!series) return;
      const { color, dash, label } = seriesStyle(view, tag, tagIndex, run, runIndex);
      const yAxisID = onRightAxis(view.spec, tagIndex) ? 'y2' : 'y';
      const key = seriesKey(run.trainingId, tag);
      if (showRaw && smooth) {
        meta.push({ key, role: 'raw', main: false, run });
        datasets.push({
          label: formatString(view.strings.rawSeries, label),
          yAxisID,
          data: pointsOf(series, 0, 'raw', xAxis, logScale),
          borderColor: withAlpha(color, 0.25),
          borderWidth: 1,
          borderDash: dash,
          pointRadius: 0,
          pointHitRadius: 0,
        });
      }
      const role = smooth ? 'smoothed' : 'raw';
      meta.push({ key, role, main: true, run });
      const data = pointsOf(series, 0, role, xAxis, logScale);
      datasets.push({ label, yAxisID, data, borderColor: color, borderWidth: wide, borderDash: dash, pointRadius: 0, pointHoverRadius: 3 });
    });
  });
  return { datasets, meta };
}
