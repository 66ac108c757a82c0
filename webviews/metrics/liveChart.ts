import type { ChartConfiguration } from 'chart.js';
import { publishCounts } from './chartCounts.ts';
import { markerLines, markerPathAt } from './chartMarkers.ts';
import { applyOptions, chartConfig } from './chartOptions.ts';
import { chartOverlay } from './chartOverlay.ts';
import { Chart } from './chartSetup.ts';
import type { ChartCardProps, DatasetMeta, LineChart, Point } from './chartView.ts';
import { attachDragZoom } from './dragZoom.ts';
import { seriesKey, type Series, type SeriesChange } from './seriesStore.ts';
import { buildDatasets, pointsOf } from './seriesStyle.ts';
import { stepRangeFor } from './xAxis.ts';

type Ref<T> = { readonly current: T | null };

/** The card's elements the chart draws into and writes to. */
export interface ChartElements {
  canvas: Ref<HTMLCanvasElement>;
  card: Ref<HTMLElement>;
  tooltip: Ref<HTMLDivElement>;
  gaps: Ref<HTMLParagraphElement>;
}

/**
 * One card's chart.js chart, outside preact: it is created once, when the card first comes into view
 * (35 charts cost a lot to set up and most start below the fold), and later changes go through
 * rebuild/append, never a new Chart. Live points are pushed straight into its datasets.
 */
export class LiveChart {
  /** The latest props, set on every render: chart.js and DOM callbacks read them when they fire. */
  view: ChartCardProps;
  zoom: [number, number] | null = null;
  private readonly elements: ChartElements;
  private readonly onZoomChange: (zoom: [number, number] | null) => void;
  private chart: LineChart | null = null;
  private meta: DatasetMeta[] = [];
  // Charts scrolled out of view are not redrawn: with 35 charts and 10 appends a second, drawing
  // only the handful on screen is most of the saving. They catch up when they scroll into view.
  private visible = false;
  private stale = false;
  private frame = 0;

  constructor(view: ChartCardProps, elements: ChartElements, onZoomChange: (zoom: [number, number] | null) => void) {
    this.view = view;
    this.elements = elements;
    this.onZoomChange = onZoomChange;
  }

  /** Watches for the card coming into view, the mouse and the store; returns the teardown. */
  mount(): () => void {
    const canvas = this.elements.canvas.current!;
    const drag = attachDragZoom(canvas, () => this.chart, {
      onZoom: (range) => this.zoomTo(range),
      onClick: (px) => this.revealMarkerAt(px),
      onReset: () => this.zoomTo(null),
    });
    const overlay = chartOverlay({ theme: () => this.view.theme, lines: () => markerLines(this.view), band: drag.band });
    const config = chartConfig({ view: () => this.view, meta: () => this.meta, tooltipBox: () => this.elements.tooltip.current }, overlay);
    const observer = new IntersectionObserver(
      (entries) =>
        this.onVisibility(
          entries.some((e) => e.isIntersecting),
          canvas,
          config,
        ),
      {
        rootMargin: '200px 0px',
      },
    );
    observer.observe(this.elements.card.current!);
    this.publishCounts();
    const unsubscribe = this.view.store.subscribe((change) => this.onStoreChange(change));
    return () => {
      observer.disconnect();
      drag.dispose();
      unsubscribe();
      if (this.frame) cancelAnimationFrame(this.frame);
      this.chart?.destroy();
      this.chart = null;
    };
  }

  /** Settings, runs, theme or tags changed (or the chart is stale): the datasets anew. */
  rebuild(mode: 'default' | 'none'): void {
    const chart = this.chart;
    if (!chart || !this.visible) {
      this.stale = true;
      this.publishCounts();
      return;
    }
    this.stale = false;
    const { datasets, meta } = buildDatasets(this.view);
    chart.data.datasets = datasets;
    this.meta = meta;
    applyOptions(chart, this.view, this.zoom);
    chart.update(mode);
    this.publishCounts();
  }

  /** The markers changed: a redraw (the overlay reads them), later if the chart is out of view. */
  markersChanged(): void {
    if (this.visible) this.chart?.update('none');
    else this.stale = true;
  }

  zoomTo(range: [number, number] | null): void {
    const view = this.view;
    this.zoom = range;
    this.onZoomChange(range);
    const chart = this.chart;
    const seriesHere = view.runs.flatMap((run) =>
      view.spec.tags.map((tag) => view.store.get(run.trainingId, tag)).filter((s): s is Series => !!s),
    );
    const stepRange = range ? stepRangeFor(seriesHere, view.settings.xAxis, range[0], range[1]) : null;
    const width = chart ? Math.round(chart.width * (window.devicePixelRatio || 1)) : 1000;
    if (chart) {
      applyOptions(chart, view, this.zoom);
      chart.update('none');
    }
    // Zoomed in, the same pixels show a narrower range: ask the host for denser points there.
    view.onRequest(view.spec.tags, stepRange, Math.min(Math.max(width, 200), 4000));
  }

  /** The chart as a PNG, base64 without the data: prefix; null before it was first drawn. */
  png(): string | null {
    if (!this.chart) return null;
    const url = this.chart.toBase64Image('image/png');
    return url.slice(url.indexOf(',') + 1);
  }

  private onVisibility(visible: boolean, canvas: HTMLCanvasElement, config: ChartConfiguration<'line', Point[]>): void {
    this.visible = visible;
    if (!visible) return;
    if (!this.chart) {
      this.chart = new Chart(canvas, config);
      this.rebuild('none');
    } else if (this.stale) {
      this.rebuild('none');
    }
  }

  private onStoreChange(change: SeriesChange): void {
    const keys = new Set(this.view.runs.flatMap((run) => this.view.spec.tags.map((tag) => seriesKey(run.trainingId, tag))));
    switch (change.kind) {
      case 'appended':
        if (keys.has(change.key)) this.append(change.key, change.from);
        return;
      case 'replaced':
        if (change.keys.some((k) => keys.has(k))) this.rebuild('none');
        return;
      case 'resmoothed':
        this.rebuild('none');
        return;
      default: {
        const never: never = change;
        void never;
      }
    }
  }

  /** Live data: push the new points into the existing datasets and redraw without animation. */
  private append(key: string, from: number): void {
    const chart = this.chart;
    if (!chart || !this.visible || this.stale) return this.rebuild('none');
    const { store, settings } = this.view;
    const [trainingId, tag] = key.split('\u0000') as [string, string];
    const series = store.get(trainingId, tag);
    if (!series) return;
    // A missing dataset (first points of a new series) needs the full build.
    if (!this.meta.some((m) => m.key === key)) return this.rebuild('none');
    this.meta.forEach((meta, index) => {
      if (meta.key !== key) return;
      const dataset = chart.data.datasets[index]!;
      if (meta.role === 'smoothed' && dataset.data.length !== from) {
        // The smoothing was recomputed from the start (the series stopped being constant).
        dataset.data = pointsOf(series, 0, 'smoothed', settings.xAxis, settings.logScale);
      } else {
        for (const point of pointsOf(series, from, meta.role, settings.xAxis, settings.logScale)) dataset.data.push(point);
      }
    });
    this.scheduleUpdate();
    this.publishCounts();
  }

  /** One redraw per frame however many series of this chart got points (an append carries every tag). */
  private scheduleUpdate(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.chart?.update('none');
    });
  }

  private revealMarkerAt(px: number): void {
    const path = this.chart && markerPathAt(markerLines(this.view), this.chart.scales['x']!, px);
    if (path) this.view.onReveal(path);
  }

  private publishCounts(): void {
    publishCounts(this.elements.card.current, this.elements.gaps.current, this.view);
  }
}
