import { toWire } from '../../src/protocol/metricsPanel.ts';
import type { Series } from './seriesStore.ts';

const HEADER = 'training,tag,step,epoch,wall_time_ms,value';

function field(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The raw points (not the smoothed curve) of the given series, one row per point. Non-finite
 * values are spelled NaN/Infinity/-Infinity so a spreadsheet or pandas reads them back.
 */
export function seriesToCsv(series: Series[], runName: (trainingId: string) => string): string {
  const lines = [HEADER];
  for (const s of series) {
    const name = field(runName(s.trainingId));
    const tag = field(s.tag);
    for (let i = 0; i < s.steps.length; i++) {
      const epoch = s.epochs[i];
      const wall = s.wallTimesMs[i];
      lines.push(`${name},${tag},${s.steps[i]},${epoch ?? ''},${wall ?? ''},${String(toWire(s.values[i]!))}`);
    }
  }
  return lines.join('\n') + '\n';
}
