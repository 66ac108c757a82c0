import { formatString } from '../../src/protocol/panelStrings.ts';
import { ChartLegend } from './chartLegend.tsx';
import type { ChartCardProps } from './chartView.ts';
import { useChart } from './useChart.ts';

export type { ChartCardProps, RunView } from './chartView.ts';

/** One chart: title and buttons, legend, canvas with its HTML tooltip, and a note on undrawable points. */
export function ChartCard(props: ChartCardProps) {
  const { refs, zoom, resetZoom, exportPng } = useChart(props);
  const { spec, strings } = props;
  return (
    <section class="chart-card" ref={refs.card} data-chart-id={spec.id} data-title={spec.title}>
      <header>
        <h3 title={spec.tags.join(', ')}>{spec.title}</h3>
        {zoom && (
          <vscode-button secondary class="small" onClick={resetZoom}>
            {strings.resetZoom}
          </vscode-button>
        )}
        <vscode-button secondary class="small" onClick={exportPng} title={strings.savePng}>
          {strings.png}
        </vscode-button>
      </header>
      <ChartLegend view={props} />
      <div class="canvas-box">
        <canvas ref={refs.canvas} role="img" aria-label={formatString(strings.chart, spec.title)} />
        <div class="chart-tooltip" ref={refs.tooltip} role="tooltip" hidden />
      </div>
      <p class="gaps" ref={refs.gaps} hidden />
    </section>
  );
}
