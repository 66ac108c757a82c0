import type { Chart } from 'chart.js';
import type { MarkersMessage, MetricsStrings, PanelSettings } from '../../src/protocol/metricsPanel.ts';
import type { ThemeColors } from '../shared/theme.ts';
import type { ChartSpec } from './chartGroups.ts';
import type { SeriesStore } from './seriesStore.ts';

/** A training as the charts draw it: its legend name and colour. */
export interface RunView {
  trainingId: string;
  name: string;
  color: string;
}

/** What one chart draws: read afresh on every draw, since live points arrive between renders. */
export interface ChartView {
  spec: ChartSpec;
  runs: RunView[];
  compare: boolean;
  store: SeriesStore;
  settings: PanelSettings;
  markers: Map<string, MarkersMessage>;
  theme: ThemeColors;
  /** The host's strings (English until init). */
  strings: MetricsStrings;
}

/** What a chart asks of the panel: denser points, a revealed checkpoint, a saved PNG. */
export interface ChartCallbacks {
  onRequest: (tags: string[], stepRange: [number, number] | null, maxPoints: number) => void;
  onReveal: (path: string) => void;
  onExportPng: (spec: ChartSpec, base64: string) => void;
}

export type ChartCardProps = ChartView & ChartCallbacks;

export interface Point {
  x: number;
  y: number;
  /** Index into the series, so tooltips can show the raw value, epoch and time of a smoothed point. */
  i: number;
}

export interface DatasetMeta {
  key: string;
  /** Which values the dataset draws. */
  role: 'raw' | 'smoothed';
  /** The chart's line for this series (tooltips, legend); false for the faint raw one behind it. */
  main: boolean;
  run: RunView;
}

export type LineChart = Chart<'line', Point[]>;
