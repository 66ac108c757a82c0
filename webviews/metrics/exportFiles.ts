import type { FromWebview, RunInfo } from '../../src/protocol/metricsPanel.ts';
import type { ChartSpec } from './chartGroups.ts';
import { seriesToCsv } from './csvExport.ts';
import type { Series } from './seriesStore.ts';

type ExportMessage = Extract<FromWebview, { type: 'export' }>;

/** The file name stem: the training's name, or "compare" for several. */
const stem = (runs: RunInfo[]): string => safeName(runs.length === 1 ? runs[0]!.name : 'compare');

/** The shown series as one CSV file. */
export function csvExport(series: Series[], runs: RunInfo[]): ExportMessage {
  const runName = (id: string) => runs.find((r) => r.trainingId === id)?.name ?? id;
  return { type: 'export', format: 'csv', suggestedName: `${stem(runs)}-metrics.csv`, data: seriesToCsv(series, runName) };
}

/** One chart's picture as a PNG file. */
export function pngExport(spec: ChartSpec, base64: string, runs: RunInfo[]): ExportMessage {
  return { type: 'export', format: 'png', suggestedName: `${stem(runs)}-${safeName(spec.title)}.png`, data: base64 };
}

function safeName(text: string): string {
  return (
    text
      .replace(/[^\w.-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 80) || 'metrics'
  );
}
