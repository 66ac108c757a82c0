import type { TooltipItem, TooltipModel } from 'chart.js';
import { formatString } from '../../src/protocol/panelStrings.ts';
import type { ChartView, DatasetMeta, Point } from './chartView.ts';
import { seriesKey } from './seriesStore.ts';
import { smoothed } from './seriesStyle.ts';

/** The hovered point's step, epoch and wall time. */
export function tooltipTitle(items: TooltipItem<'line'>[], meta: DatasetMeta[], view: ChartView): string {
  const item = items[0];
  if (!item) return '';
  const m = meta[item.datasetIndex];
  const point = item.raw as Point;
  const series =
    m &&
    view.store.get(
      m.run.trainingId,
      view.spec.tags.find((t) => seriesKey(m.run.trainingId, t) === m.key)!,
    );
  if (!series) return '';
  const parts = [`step ${series.steps[point.i]}`];
  const epoch = series.epochs[point.i];
  if (epoch != null) parts.push(`epoch ${epoch}`);
  const wall = series.wallTimesMs[point.i];
  if (wall != null) parts.push(new Date(wall).toLocaleString());
  return parts.join(' · ');
}

/** A series' value at the hovered point: smoothed and raw where the chart smooths. */
export function tooltipLabel(item: TooltipItem<'line'>, meta: DatasetMeta[], view: ChartView): string {
  const m = meta[item.datasetIndex];
  const point = item.raw as Point;
  if (!m) return '';
  const [trainingId, tag] = m.key.split('\u0000') as [string, string];
  const series = view.store.get(trainingId, tag);
  if (!series) return '';
  const raw = series.values[point.i]!;
  const smooth = series.smoothed[point.i]!;
  const label = item.dataset.label ?? tag;
  return smoothed(view.spec, view.store)
    ? formatString(view.strings.tooltipSmoothed, label, formatValue(smooth), formatValue(raw))
    : `${label}: ${formatValue(raw)}`;
}

/** Fills the HTML tooltip (themed with CSS variables, readable by screen readers and tests) and places it beside the caret. */
export function showTooltip(box: HTMLDivElement | null, tooltip: TooltipModel<'line'>): void {
  if (!box) return;
  if (tooltip.opacity === 0 || tooltip.dataPoints.length === 0) {
    box.hidden = true;
    return;
  }
  box.replaceChildren();
  const title = document.createElement('div');
  title.className = 'tooltip-title';
  title.textContent = tooltip.title.join(' ');
  box.append(title);
  tooltip.body.forEach((body, i) => {
    const line = document.createElement('div');
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = String(tooltip.labelColors[i]?.borderColor ?? 'transparent');
    line.append(swatch, body.lines.join(' '));
    box.append(line);
  });
  box.hidden = false;
  const parentWidth = box.parentElement?.clientWidth ?? 0;
  const left = tooltip.caretX + 12 + box.offsetWidth > parentWidth ? tooltip.caretX - 12 - box.offsetWidth : tooltip.caretX + 12;
  box.style.left = `${Math.max(0, left)}px`;
  box.style.top = `${Math.max(0, tooltip.caretY - box.offsetHeight / 2)}px`;
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e5) ? value.toExponential(3) : value.toPrecision(5);
}
