import { formatString } from '../../src/protocol/panelStrings.ts';
import type { ChartView } from './chartView.ts';

/** Points and series a chart holds, and the non-finite points it cannot draw. */
export function countSeries(view: Pick<ChartView, 'runs' | 'spec' | 'store'>): { points: number; series: number; gaps: number } {
  let points = 0;
  let series = 0;
  let gaps = 0;
  for (const run of view.runs) {
    for (const tag of view.spec.tags) {
      const s = view.store.get(run.trainingId, tag);
      if (!s) continue;
      points += s.steps.length;
      series++;
      for (const v of s.values) if (!Number.isFinite(v)) gaps++;
    }
  }
  return { points, series, gaps };
}

/** Point and series counts in the DOM: integration tests and screen readers read them. */
export function publishCounts(card: HTMLElement | null, note: HTMLElement | null, view: ChartView): void {
  if (!card) return;
  const { points, series, gaps } = countSeries(view);
  card.dataset['points'] = String(points);
  card.dataset['series'] = String(series);
  // Non-finite points (fp16 overflow in RVC's logs) are not drawn: say why the line has gaps.
  card.dataset['gaps'] = String(gaps);
  if (note) {
    note.hidden = gaps === 0;
    note.textContent = gaps === 0 ? '' : formatString(gaps === 1 ? view.strings.gapsOne : view.strings.gapsMany, gaps);
  }
}
