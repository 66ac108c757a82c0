import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChartConfiguration, ChartDataset, Plugin, TooltipItem, TooltipModel } from 'chart.js';
import type { MarkersMessage, MetricsStrings, PanelSettings, XAxisMode } from '../../src/protocol/metricsPanel.ts';
import { formatString } from '../../src/protocol/panelStrings.ts';
import { withAlpha, type ThemeColors } from '../shared/theme.ts';
import { Chart } from './chartSetup.ts';
import type { ChartSpec } from './chartGroups.ts';
import { seriesKey, type Series, type SeriesStore } from './seriesStore.ts';
import { formatTick, formatX, stepRangeFor, xOf } from './xAxis.ts';

export interface RunView {
  trainingId: string;
  name: string;
  color: string;
}

export interface ChartCardProps {
  spec: ChartSpec;
  runs: RunView[];
  compare: boolean;
  store: SeriesStore;
  settings: PanelSettings;
  markers: Map<string, MarkersMessage>;
  theme: ThemeColors;
  /** The host's strings (English until init). */
  strings: MetricsStrings;
  onRequest: (tags: string[], stepRange: [number, number] | null, maxPoints: number) => void;
  onReveal: (path: string) => void;
  onExportPng: (spec: ChartSpec, base64: string) => void;
}

interface Point {
  x: number;
  y: number;
  /** Index into the series, so tooltips can show the raw value, epoch and time of a smoothed point. */
  i: number;
}

interface DatasetMeta {
  key: string;
  /** Which values the dataset draws. */
  role: 'raw' | 'smoothed';
  /** The chart's line for this series (tooltips, legend); false for the faint raw one behind it. */
  main: boolean;
  run: RunView;
}

type LineChart = Chart<'line', Point[]>;

const DASHES: number[][] = [[], [6, 3], [2, 2], [8, 3, 2, 3]];
const MARKER_HIT_PX = 5;

function yFor(value: number, logScale: boolean): number {
  if (!Number.isFinite(value)) return NaN;
  return logScale && value <= 0 ? NaN : value;
}

function pointsOf(series: Series, from: number, role: 'raw' | 'smoothed', mode: XAxisMode, logScale: boolean): Point[] {
  const source = role === 'raw' ? series.values : series.smoothed;
  const out: Point[] = [];
  for (let i = from; i < series.steps.length; i++) out.push({ x: xOf(series, i, mode), y: yFor(source[i]!, logScale), i });
  return out;
}

interface MarkerLine {
  x: number;
  color: string;
  dash: number[];
  label: string | null;
  /** A small label at the foot of the line (the epoch of a saved model). */
  footLabel: string | null;
  path: string | null;
}

/**
 * Whether the chart draws smoothed values: not for a schedule (learning rate), not at smoothing 0.
 * Read from the store, whose weight changes before the panel re-renders with the new settings.
 */
const smoothed = (spec: ChartSpec, store: SeriesStore): boolean => spec.smooth !== false && store.smoothing > 0;
const onRightAxis = (spec: ChartSpec, tagIndex: number): boolean => spec.dualAxis === true && spec.tags.length > 1 && tagIndex > 0;

/** Where a training's checkpoint/best-epoch markers sit on the current x axis. */
function markerLines(props: ChartCardProps): MarkerLine[] {
  const lines: MarkerLine[] = [];
  const mode = props.settings.xAxis;
  for (const run of props.runs) {
    const m = props.markers.get(run.trainingId);
    if (!m) continue;
    const reference = props.spec.tags.map((tag) => props.store.get(run.trainingId, tag)).find((s) => s && s.steps.length > 0);
    const place = (step: number | null, epoch: number | null): number => {
      if (mode === 'step') return step ?? NaN;
      if (mode === 'epoch') return epoch ?? NaN;
      if (!reference || step === null) return NaN;
      // Time axes: the time of the first logged point at or after the marker's step.
      const i = reference.steps.findIndex((s) => s >= step);
      return i < 0 ? NaN : xOf(reference, i, mode);
    };
    for (const c of m.checkpoints) {
      if (c.kind === 'checkpoint_d' || c.kind === 'index') continue;
      const x = place(c.step, c.epoch);
      const footLabel = c.kind === 'weights' && c.epoch !== null ? `e${c.epoch}` : null;
      if (Number.isFinite(x))
        lines.push({
          x,
          color: withAlpha(run.color, 0.55),
          dash: c.kind === 'weights' ? [] : [3, 3],
          label: null,
          footLabel,
          path: c.path,
        });
    }
    if (m.bestEpoch) {
      const x = place(m.bestEpoch.step, m.bestEpoch.epoch);
      if (Number.isFinite(x))
        lines.push({
          x,
          color: props.theme.warning,
          dash: [],
          label: formatString(props.strings.bestMarker, m.bestEpoch.epoch),
          footLabel: null,
          path: null,
        });
    }
  }
  return lines;
}

export function ChartCard(props: ChartCardProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const cardRef = useRef<HTMLElement>(null);
  const chartRef = useRef<LineChart | null>(null);
  const metaRef = useRef<DatasetMeta[]>([]);
  const propsRef = useRef(props);
  propsRef.current = props;
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const zoomRef = useRef(zoom);
  zoomRef.current = zoom;

  /** Point and series counts in the DOM: integration tests and screen readers read them. */
  const publishCounts = () => {
    const card = cardRef.current;
    if (!card) return;
    let points = 0;
    let series = 0;
    for (const run of propsRef.current.runs) {
      for (const tag of propsRef.current.spec.tags) {
        const s = propsRef.current.store.get(run.trainingId, tag);
        if (s) {
          points += s.steps.length;
          series++;
        }
      }
    }
    card.dataset['points'] = String(points);
    card.dataset['series'] = String(series);
    // Non-finite points (fp16 overflow in RVC's logs) are not drawn: say why the line has gaps.
    let gaps = 0;
    for (const run of propsRef.current.runs) {
      for (const tag of propsRef.current.spec.tags) {
        const s = propsRef.current.store.get(run.trainingId, tag);
        if (s) for (const v of s.values) if (!Number.isFinite(v)) gaps++;
      }
    }
    card.dataset['gaps'] = String(gaps);
    const note = gapsRef.current;
    if (note) {
      note.hidden = gaps === 0;
      note.textContent =
        gaps === 0 ? '' : formatString(gaps === 1 ? propsRef.current.strings.gapsOne : propsRef.current.strings.gapsMany, gaps);
    }
  };
  const gapsRef = useRef<HTMLParagraphElement>(null);

  const buildDatasets = (): ChartDataset<'line', Point[]>[] => {
    const p = propsRef.current;
    const meta: DatasetMeta[] = [];
    const datasets: ChartDataset<'line', Point[]>[] = [];
    const wide = p.theme.highContrast ? 2.5 : 1.5;
    p.spec.tags.forEach((tag, tagIndex) => {
      p.runs.forEach((run, runIndex) => {
        const series = p.store.get(run.trainingId, tag);
        if (!series) return;
        // One training: each tag its own colour. Compare: each run its colour, tags told apart by dash.
        const color = p.compare ? run.color : p.theme.palette[tagIndex % p.theme.palette.length]!;
        const dash = p.compare ? DASHES[tagIndex % DASHES.length]! : DASHES[runIndex % DASHES.length]!;
        const label = p.compare ? `${run.name} · ${tag}` : tag;
        const smooth = smoothed(p.spec, p.store);
        const yAxisID = onRightAxis(p.spec, tagIndex) ? 'y2' : 'y';
        if (p.settings.showRaw && smooth) {
          meta.push({ key: seriesKey(run.trainingId, tag), role: 'raw', main: false, run });
          datasets.push({
            label: formatString(p.strings.rawSeries, label),
            yAxisID,
            data: pointsOf(series, 0, 'raw', p.settings.xAxis, p.settings.logScale),
            borderColor: withAlpha(color, 0.25),
            borderWidth: 1,
            borderDash: dash,
            pointRadius: 0,
            pointHitRadius: 0,
          });
        }
        const role = smooth ? 'smoothed' : 'raw';
        meta.push({ key: seriesKey(run.trainingId, tag), role, main: true, run });
        datasets.push({
          label,
          yAxisID,
          data: pointsOf(series, 0, role, p.settings.xAxis, p.settings.logScale),
          borderColor: color,
          borderWidth: wide,
          borderDash: dash,
          pointRadius: 0,
          pointHoverRadius: 3,
        });
      });
    });
    metaRef.current = meta;
    return datasets;
  };

  /**
   * Scale options are created once (in the config) and then changed leaf by leaf: replacing a
   * whole object inside chart.options (a resolver proxy) nests proxies until chart.js overflows.
   */
  const applyOptions = (chart: LineChart) => {
    const p = propsRef.current;
    const z = zoomRef.current;
    const x = chart.options.scales!['x']!;
    const y = chart.options.scales!['y']!;
    const y2 = chart.options.scales!['y2']!;
    x.min = z?.[0];
    x.max = z?.[1];
    if (x.title) x.title.text = p.strings.xAxisModes[p.settings.xAxis];
    y.type = p.settings.logScale ? 'logarithmic' : 'linear';
    y2.type = y.type;
    if (x.title) x.title.color = p.theme.muted;
    // Two axes, each titled with its tags in their colour, when the chart's tags differ in magnitude.
    const dual = p.spec.dualAxis === true && p.spec.tags.length > 1;
    y2.display = dual;
    const tagColor = (i: number) => (p.compare ? p.theme.muted : p.theme.palette[i % p.theme.palette.length]!);
    if (y.title && y2.title) {
      y.title.display = dual;
      y.title.text = p.spec.tags[0] ?? '';
      y.title.color = tagColor(0);
      y2.title.display = dual;
      y2.title.text = p.spec.tags.slice(1).join(', ');
      y2.title.color = tagColor(1);
    }
    for (const scale of [x, y, y2]) {
      if (scale.ticks) scale.ticks.color = p.theme.muted;
      if (scale.grid) scale.grid.color = p.theme.grid;
    }
  };

  // Charts scrolled out of view are not redrawn: with 35 charts and 10 appends a second, drawing
  // only the handful on screen is most of the saving. They catch up when they scroll into view.
  const visibleRef = useRef(false);
  const staleRef = useRef(false);

  const rebuild = (mode: 'default' | 'none') => {
    const chart = chartRef.current;
    if (!chart || !visibleRef.current) {
      staleRef.current = true;
      publishCounts();
      return;
    }
    staleRef.current = false;
    chart.data.datasets = buildDatasets();
    applyOptions(chart);
    chart.update(mode);
    publishCounts();
  };

  // The chart is created once, when the card first comes into view (35 charts cost a lot to set up
  // and most start below the fold); later changes go through rebuild/append, never a new Chart.
  useEffect(() => {
    const canvas = canvasRef.current!;
    let drag: { startX: number; currentX: number } | null = null;

    const overlay: Plugin<'line'> = {
      id: 'rvcOverlay',
      beforeDraw(chart) {
        // An opaque background so an exported PNG looks like the panel, not a transparent sheet.
        const ctx = chart.ctx;
        ctx.save();
        ctx.fillStyle = propsRef.current.theme.background;
        ctx.fillRect(0, 0, chart.width, chart.height);
        ctx.restore();
      },
      afterDatasetsDraw(chart) {
        const { ctx, chartArea, scales } = chart;
        const x = scales['x']!;
        ctx.save();
        let lastFoot = -Infinity;
        for (const line of [...markerLines(propsRef.current)].sort((a, b) => a.x - b.x)) {
          const px = x.getPixelForValue(line.x);
          if (px < chartArea.left || px > chartArea.right) continue;
          ctx.strokeStyle = line.color;
          ctx.setLineDash(line.dash);
          ctx.lineWidth = line.label ? 2 : 1;
          ctx.beginPath();
          ctx.moveTo(px, chartArea.top);
          ctx.lineTo(px, chartArea.bottom);
          ctx.stroke();
          if (line.label) {
            ctx.fillStyle = line.color;
            ctx.font = '10px sans-serif';
            ctx.fillText(line.label, Math.min(px + 3, chartArea.right - 40), chartArea.top + 10);
          }
          // Saved models' epochs at the foot, skipped where they would overlap the previous one.
          if (line.footLabel && px - lastFoot >= 28) {
            ctx.fillStyle = propsRef.current.theme.muted;
            ctx.font = '9px sans-serif';
            ctx.fillText(line.footLabel, Math.min(px + 2, chartArea.right - 20), chartArea.bottom - 3);
            lastFoot = px;
          }
        }
        if (drag) {
          ctx.fillStyle = withAlpha(propsRef.current.theme.foreground, 0.12);
          const left = Math.min(drag.startX, drag.currentX);
          ctx.fillRect(left, chartArea.top, Math.abs(drag.currentX - drag.startX), chartArea.bottom - chartArea.top);
        }
        ctx.restore();
      },
    };

    const config: ChartConfiguration<'line', Point[]> = {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        spanGaps: false,
        // Hover only: chart.js delivers at most one event per frame, so a quick click's
        // mousedown and mouseup can merge; drag, click and double-click are plain DOM listeners below.
        events: ['mousemove', 'mouseout'],
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: {
            type: 'linear',
            title: { display: true, text: propsRef.current.strings.xAxisModes[propsRef.current.settings.xAxis] },
            ticks: { maxRotation: 0, callback: (value) => formatX(Number(value), propsRef.current.settings.xAxis) },
          },
          y: {
            type: 'linear',
            title: { display: false, text: '' },
            ticks: { callback: (value) => formatTick(Number(value), propsRef.current.spec.yFormat) },
          },
          y2: {
            type: 'linear',
            position: 'right',
            display: false,
            title: { display: false, text: '' },
            grid: { drawOnChartArea: false },
            ticks: { callback: (value) => formatTick(Number(value), propsRef.current.spec.yFormat) },
          },
        },
        plugins: {
          tooltip: {
            // An HTML tooltip: themed with CSS variables, readable by screen readers and tests.
            enabled: false,
            external: ({ tooltip }) => showTooltip(tooltip),
            filter: (item) => metaRef.current[item.datasetIndex]?.main === true,
            callbacks: {
              title: (items) => tooltipTitle(items),
              label: (item) => tooltipLabel(item),
            },
          },
        },
      },
      plugins: [overlay],
    };
    const observer = new IntersectionObserver(
      (entries) => {
        visibleRef.current = entries.some((e) => e.isIntersecting);
        if (!visibleRef.current) return;
        if (!chartRef.current) {
          chartRef.current = new Chart(canvas, config);
          rebuild('none');
        } else if (staleRef.current) {
          rebuild('none');
        }
      },
      { rootMargin: '200px 0px' },
    );
    observer.observe(cardRef.current!);
    publishCounts();

    const xIn = (event: MouseEvent, chart: LineChart) => {
      const rect = canvas.getBoundingClientRect();
      const area = chart.chartArea;
      return {
        x: Math.min(Math.max(event.clientX - rect.left, area.left), area.right),
        inside: event.clientX - rect.left >= area.left && event.clientX - rect.left <= area.right,
      };
    };
    const onDown = (event: MouseEvent) => {
      const chart = chartRef.current;
      if (!chart || event.button !== 0) return;
      const { x, inside } = xIn(event, chart);
      if (inside) drag = { startX: x, currentX: x };
    };
    const onMove = (event: MouseEvent) => {
      const chart = chartRef.current;
      if (!chart || !drag) return;
      drag.currentX = xIn(event, chart).x;
      chart.render();
    };
    const onUp = () => {
      const chart = chartRef.current;
      if (!chart || !drag) return;
      const { startX, currentX } = drag;
      drag = null;
      chart.render();
      if (Math.abs(currentX - startX) > 5) {
        const scale = chart.scales['x']!;
        zoomTo([scale.getValueForPixel(Math.min(startX, currentX))!, scale.getValueForPixel(Math.max(startX, currentX))!]);
      } else {
        clickMarker(chart, startX);
      }
    };
    const onDoubleClick = () => zoomTo(null);
    canvas.addEventListener('mousedown', onDown);
    canvas.addEventListener('dblclick', onDoubleClick);
    // On the window, so a drag released outside the chart still ends.
    window.addEventListener('mousemove', onMove);
    window.addEventListener('mouseup', onUp);

    const unsubscribe = propsRef.current.store.subscribe((change) => {
      const keys = new Set(propsRef.current.runs.flatMap((run) => propsRef.current.spec.tags.map((tag) => seriesKey(run.trainingId, tag))));
      if (change.kind === 'appended') {
        if (!keys.has(change.key)) return;
        appendPoints(change.key, change.from);
      } else if (change.kind === 'replaced') {
        if (change.keys.some((k) => keys.has(k))) rebuild('none');
      } else {
        rebuild('none');
      }
    });
    return () => {
      observer.disconnect();
      canvas.removeEventListener('mousedown', onDown);
      canvas.removeEventListener('dblclick', onDoubleClick);
      window.removeEventListener('mousemove', onMove);
      window.removeEventListener('mouseup', onUp);
      unsubscribe();
      if (frameRef.current) cancelAnimationFrame(frameRef.current);
      chartRef.current?.destroy();
      chartRef.current = null;
    };
  }, []);

  /** Live data: push the new points into the existing datasets and redraw without animation. */
  const appendPoints = (key: string, from: number) => {
    const chart = chartRef.current;
    if (!chart || !visibleRef.current || staleRef.current) return rebuild('none');
    const p = propsRef.current;
    const [trainingId, tag] = key.split('\u0000') as [string, string];
    const series = p.store.get(trainingId, tag);
    if (!series) return;
    // A missing dataset (first points of a new series) needs the full build.
    if (!metaRef.current.some((m) => m.key === key)) return rebuild('none');
    metaRef.current.forEach((meta, index) => {
      if (meta.key !== key) return;
      const data = chart.data.datasets[index]!.data;
      if (meta.role === 'smoothed' && data.length !== from) {
        // The smoothing was recomputed from the start (the series stopped being constant).
        chart.data.datasets[index]!.data = pointsOf(series, 0, 'smoothed', p.settings.xAxis, p.settings.logScale);
      } else {
        for (const point of pointsOf(series, from, meta.role, p.settings.xAxis, p.settings.logScale)) data.push(point);
      }
    });
    scheduleUpdate();
    publishCounts();
  };

  // One redraw per frame however many series of this chart got points (an append carries every tag).
  const frameRef = useRef(0);
  const scheduleUpdate = () => {
    if (frameRef.current) return;
    frameRef.current = requestAnimationFrame(() => {
      frameRef.current = 0;
      chartRef.current?.update('none');
    });
  };

  const tooltipTitle = (items: TooltipItem<'line'>[]): string => {
    const item = items[0];
    if (!item) return '';
    const meta = metaRef.current[item.datasetIndex];
    const point = item.raw as Point;
    const series =
      meta &&
      propsRef.current.store.get(
        meta.run.trainingId,
        propsRef.current.spec.tags.find((t) => seriesKey(meta.run.trainingId, t) === meta.key)!,
      );
    if (!series) return '';
    const parts = [`step ${series.steps[point.i]}`];
    const epoch = series.epochs[point.i];
    if (epoch != null) parts.push(`epoch ${epoch}`);
    const wall = series.wallTimesMs[point.i];
    if (wall != null) parts.push(new Date(wall).toLocaleString());
    return parts.join(' · ');
  };

  const tooltipLabel = (item: TooltipItem<'line'>): string => {
    const meta = metaRef.current[item.datasetIndex];
    const point = item.raw as Point;
    if (!meta) return '';
    const [trainingId, tag] = meta.key.split('\u0000') as [string, string];
    const series = propsRef.current.store.get(trainingId, tag);
    if (!series) return '';
    const raw = series.values[point.i]!;
    const smooth = series.smoothed[point.i]!;
    const label = item.dataset.label ?? tag;
    return smoothed(propsRef.current.spec, propsRef.current.store)
      ? formatString(propsRef.current.strings.tooltipSmoothed, label, fmt(smooth), fmt(raw))
      : `${label}: ${fmt(raw)}`;
  };

  const tooltipRef = useRef<HTMLDivElement>(null);
  const showTooltip = (tooltip: TooltipModel<'line'>) => {
    const box = tooltipRef.current;
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
  };

  const clickMarker = (chart: LineChart, px: number) => {
    const scale = chart.scales['x']!;
    for (const line of markerLines(propsRef.current)) {
      if (line.path && Math.abs(scale.getPixelForValue(line.x) - px) <= MARKER_HIT_PX) {
        propsRef.current.onReveal(line.path);
        return;
      }
    }
  };

  const zoomTo = (range: [number, number] | null) => {
    const p = propsRef.current;
    zoomRef.current = range;
    setZoom(range);
    const chart = chartRef.current;
    const seriesHere = p.runs.flatMap((run) => p.spec.tags.map((tag) => p.store.get(run.trainingId, tag)).filter((s): s is Series => !!s));
    const stepRange = range ? stepRangeFor(seriesHere, p.settings.xAxis, range[0], range[1]) : null;
    const width = chart ? Math.round(chart.width * (window.devicePixelRatio || 1)) : 1000;
    if (chart) {
      applyOptions(chart);
      chart.update('none');
    }
    // Zoomed in, the same pixels show a narrower range: ask the host for denser points there.
    p.onRequest(p.spec.tags, stepRange, Math.min(Math.max(width, 200), 4000));
  };

  // Settings, runs, theme or markers changed: rebuild the datasets (not on live appends).
  useEffect(() => {
    rebuild('none');
  }, [
    props.settings.xAxis,
    props.settings.logScale,
    props.settings.showRaw,
    props.settings.smoothing,
    props.runs,
    props.theme,
    props.strings,
    props.spec.tags.join('\n'),
  ]);
  useEffect(() => {
    if (visibleRef.current) chartRef.current?.update('none');
    else staleRef.current = true;
  }, [props.markers]);
  useEffect(() => {
    // A zoom is in x-axis units; they mean something else on another axis.
    if (zoomRef.current) zoomTo(null);
  }, [props.settings.xAxis]);

  const exportPng = () => {
    const chart = chartRef.current;
    if (!chart) return;
    const url = chart.toBase64Image('image/png');
    props.onExportPng(props.spec, url.slice(url.indexOf(',') + 1));
  };

  return (
    <section class="chart-card" ref={cardRef} data-chart-id={props.spec.id} data-title={props.spec.title}>
      <header>
        <h3 title={props.spec.tags.join(', ')}>{props.spec.title}</h3>
        {zoom && (
          <vscode-button secondary class="small" onClick={() => zoomTo(null)}>
            {props.strings.resetZoom}
          </vscode-button>
        )}
        <vscode-button secondary class="small" onClick={exportPng} title={props.strings.savePng}>
          {props.strings.png}
        </vscode-button>
      </header>
      <ul class="chart-legend" aria-label={formatString(props.strings.legend, props.spec.title)}>
        {props.spec.tags.flatMap((tag, tagIndex) =>
          (props.compare ? props.runs : props.runs.slice(0, 1)).map((run, runIndex) => {
            const color = props.compare ? run.color : props.theme.palette[tagIndex % props.theme.palette.length]!;
            const dash = props.compare ? DASHES[tagIndex % DASHES.length]! : DASHES[runIndex % DASHES.length]!;
            const side =
              props.spec.dualAxis && props.spec.tags.length > 1
                ? ` ${onRightAxis(props.spec, tagIndex) ? props.strings.rightAxis : props.strings.leftAxis}`
                : '';
            return (
              <li key={`${run.trainingId}\u0000${tag}`} data-tag={tag}>
                <svg width="18" height="6" aria-hidden="true">
                  <line x1="0" y1="3" x2="18" y2="3" stroke={color} stroke-width="2" stroke-dasharray={dash.join(' ')} />
                </svg>
                {props.compare ? `${run.name} · ${tag}` : tag}
                {side}
              </li>
            );
          }),
        )}
        <li class="legend-note">
          {smoothed(props.spec, props.store)
            ? props.settings.showRaw
              ? props.strings.smoothedWithRaw
              : props.strings.smoothed
            : props.strings.notSmoothed}
        </li>
      </ul>
      <div class="canvas-box">
        <canvas ref={canvasRef} role="img" aria-label={formatString(props.strings.chart, props.spec.title)} />
        <div class="chart-tooltip" ref={tooltipRef} role="tooltip" hidden />
      </div>
      <p class="gaps" ref={gapsRef} hidden />
    </section>
  );
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e5) ? value.toExponential(3) : value.toPrecision(5);
}
