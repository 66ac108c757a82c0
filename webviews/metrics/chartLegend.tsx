import { formatString } from '../../src/protocol/panelStrings.ts';
import type { ChartView } from './chartView.ts';
import { onRightAxis, seriesStyle, smoothed } from './seriesStyle.ts';

/** The chart's series as the lines draw them (colour, dash, axis side), and whether they are smoothed. */
export function ChartLegend({ view }: { view: ChartView }) {
  const { spec, strings, settings } = view;
  const dual = spec.dualAxis && spec.tags.length > 1;
  return (
    <ul class="chart-legend" aria-label={formatString(strings.legend, spec.title)}>
      {spec.tags.flatMap((tag, tagIndex) =>
        (view.compare ? view.runs : view.runs.slice(0, 1)).map((run, runIndex) => {
          const { color, dash, label } = seriesStyle(view, tag, tagIndex, run, runIndex);
          const side = dual ? ` ${onRightAxis(spec, tagIndex) ? strings.rightAxis : strings.leftAxis}` : '';
          return (
            <li key={`${run.trainingId}\u0000${tag}`} data-tag={tag}>
              <svg width="18" height="6" aria-hidden="true">
                <line x1="0" y1="3" x2="18" y2="3" stroke={color} stroke-width="2" stroke-dasharray={dash.join(' ')} />
              </svg>
              {label}
              {side}
            </li>
          );
        }),
      )}
      <li class="legend-note">
        {smoothed(spec, view.store) ? (settings.showRaw ? strings.smoothedWithRaw : strings.smoothed) : strings.notSmoothed}
      </li>
    </ul>
  );
}
