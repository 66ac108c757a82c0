import type { ChartConfiguration, Plugin } from 'chart.js';
import { showTooltip, tooltipLabel, tooltipTitle } from './chartTooltip.ts';
import type { ChartView, DatasetMeta, LineChart, Point } from './chartView.ts';
import { formatTick, formatX } from './xAxis.ts';

/** What the config's callbacks read when chart.js calls them: the latest view and datasets. */
export interface ConfigSource {
  view(): ChartView;
  meta(): DatasetMeta[];
  tooltipBox(): HTMLDivElement | null;
}

/** The chart's configuration, made once; later changes go through applyOptions. */
export function chartConfig(source: ConfigSource, overlay: Plugin<'line'>): ChartConfiguration<'line', Point[]> {
  const yTicks = { callback: (value: string | number) => formatTick(Number(value), source.view().spec.yFormat) };
  return {
    type: 'line',
    data: { datasets: [] },
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      spanGaps: false,
      // Hover only: drag, click and double-click are plain DOM listeners (dragZoom.ts).
      events: ['mousemove', 'mouseout'],
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      scales: {
        x: {
          type: 'linear',
          title: { display: true, text: source.view().strings.xAxisModes[source.view().settings.xAxis] },
          ticks: { maxRotation: 0, callback: (value) => formatX(Number(value), source.view().settings.xAxis) },
        },
        y: { type: 'linear', title: { display: false, text: '' }, ticks: { ...yTicks } },
        y2: {
          type: 'linear',
          position: 'right',
          display: false,
          title: { display: false, text: '' },
          grid: { drawOnChartArea: false },
          ticks: { ...yTicks },
        },
      },
      plugins: {
        tooltip: {
          // An HTML tooltip: themed with CSS variables, readable by screen readers and tests.
          enabled: false,
          external: ({ tooltip }) => showTooltip(source.tooltipBox(), tooltip),
          filter: (item) => source.meta()[item.datasetIndex]?.main === true,
          callbacks: {
            title: (items) => tooltipTitle(items, source.meta(), source.view()),
            label: (item) => tooltipLabel(item, source.meta(), source.view()),
          },
        },
      },
    },
    plugins: [overlay],
  };
}

/**
 * Scale options are created once (in the config) and then changed leaf by leaf: replacing a
 * whole object inside chart.options (a resolver proxy) nests proxies until chart.js overflows.
 */
export function applyOptions(chart: LineChart, view: ChartView, zoom: [number, number] | null): void {
  const { settings, strings, theme, spec } = view;
  const x = chart.options.scales!['x']!;
  const y = chart.options.scales!['y']!;
  const y2 = chart.options.scales!['y2']!;
  x.min = zoom?.[0];
  x.max = zoom?.[1];
  if (x.title) x.title.text = strings.xAxisModes[settings.xAxis];
  y.type = settings.logScale ? 'logarithmic' : 'linear';
  y2.type = y.type;
  if (x.title) x.title.color = theme.muted;
  // Two axes, each titled with its tags in their colour, when the chart's tags differ in magnitude.
  const dual = spec.dualAxis === true && spec.tags.length > 1;
  y2.display = dual;
  const tagColor = (i: number) => (view.compare ? theme.muted : theme.palette[i % theme.palette.length]!);
  if (y.title && y2.title) {
    y.title.display = dual;
    y.title.text = spec.tags[0] ?? '';
    y.title.color = tagColor(0);
    y2.title.display = dual;
    y2.title.text = spec.tags.slice(1).join(', ');
    y2.title.color = tagColor(1);
  }
  for (const scale of [x, y, y2]) {
    if (scale.ticks) scale.ticks.color = theme.muted;
    if (scale.grid) scale.grid.color = theme.grid;
  }
}
