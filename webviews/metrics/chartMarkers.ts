import type { Scale } from 'chart.js';
import type { MarkersMessage, XAxisMode } from '../../src/protocol/metricsPanel.ts';
import { formatString } from '../../src/protocol/panelStrings.ts';
import { withAlpha } from '../shared/theme.ts';
import type { ChartView, RunView } from './chartView.ts';
import type { Series } from './seriesStore.ts';
import { xOf } from './xAxis.ts';

/** How close (px) a click must land to a checkpoint's line to reveal its file. */
const MARKER_HIT_PX = 5;

export interface MarkerLine {
  x: number;
  color: string;
  dash: number[];
  label: string | null;
  /** A small label at the foot of the line (the epoch of a saved model). */
  footLabel: string | null;
  path: string | null;
}

/** Where a marker's step or epoch sits on the current x axis; NaN where it cannot be placed. */
function placer(mode: XAxisMode, reference: Series | undefined) {
  return (step: number | null, epoch: number | null): number => {
    if (mode === 'step') return step ?? NaN;
    if (mode === 'epoch') return epoch ?? NaN;
    if (!reference || step === null) return NaN;
    // Time axes: the time of the first logged point at or after the marker's step.
    const i = reference.steps.findIndex((s) => s >= step);
    return i < 0 ? NaN : xOf(reference, i, mode);
  };
}

function runMarkerLines(view: ChartView, run: RunView, m: MarkersMessage): MarkerLine[] {
  const lines: MarkerLine[] = [];
  const reference = view.spec.tags.map((tag) => view.store.get(run.trainingId, tag)).find((s) => s && s.steps.length > 0);
  const place = placer(view.settings.xAxis, reference);
  for (const c of m.checkpoints) {
    if (c.kind === 'checkpoint_d' || c.kind === 'index') continue;
    const x = place(c.step, c.epoch);
    const footLabel = c.kind === 'weights' && c.epoch !== null ? `e${c.epoch}` : null;
    if (Number.isFinite(x))
      lines.push({ x, color: withAlpha(run.color, 0.55), dash: c.kind === 'weights' ? [] : [3, 3], label: null, footLabel, path: c.path });
  }
  if (m.bestEpoch) {
    const x = place(m.bestEpoch.step, m.bestEpoch.epoch);
    const label = formatString(view.strings.bestMarker, m.bestEpoch.epoch);
    if (Number.isFinite(x)) lines.push({ x, color: view.theme.warning, dash: [], label, footLabel: null, path: null });
  }
  return lines;
}

/** Where the shown trainings' checkpoint/best-epoch markers sit on the current x axis. */
export function markerLines(view: ChartView): MarkerLine[] {
  return view.runs.flatMap((run) => {
    const m = view.markers.get(run.trainingId);
    return m ? runMarkerLines(view, run, m) : [];
  });
}

/** The file of the saved model whose line a click at `px` hit, if any. */
export function markerPathAt(lines: MarkerLine[], x: Scale, px: number): string | null {
  const hit = lines.find((line) => line.path && Math.abs(x.getPixelForValue(line.x) - px) <= MARKER_HIT_PX);
  return hit?.path ?? null;
}
