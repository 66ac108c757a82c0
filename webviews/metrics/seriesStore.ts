import { fromWire, type AppendMessage, type SeriesPayload } from '../../src/protocol/metricsPanel.ts';
import { EmaSmoother, smoothSeries } from './smoothing.ts';

/** One training's points for one tag, as received (raw) plus the smoothed values. */
export interface Series {
  trainingId: string;
  tag: string;
  steps: number[];
  values: number[];
  epochs: (number | null)[];
  wallTimesMs: (number | null)[];
  smoothed: number[];
  /** Raw points the store holds; larger than steps.length when the host downsampled. */
  totalPoints: number;
  /** Points appended live since the last full load, to decide when to re-query. */
  appendedSinceLoad: number;
  smoother: EmaSmoother;
}

export type SeriesChange = { kind: 'replaced'; keys: string[] } | { kind: 'appended'; key: string; from: number } | { kind: 'resmoothed' };

export const seriesKey = (trainingId: string, tag: string): string => `${trainingId}\u0000${tag}`;

/**
 * The panel's data, kept outside preact state on purpose: live points are pushed straight into the
 * charts that show them (chart.update('none')), so an append never re-renders the component tree.
 */
export class SeriesStore {
  private readonly series = new Map<string, Series>();
  private readonly listeners = new Set<(change: SeriesChange) => void>();
  private weight: number;

  constructor(weight: number) {
    this.weight = weight;
  }

  /** The smoothing weight the series are smoothed with now (set before the panel re-renders). */
  get smoothing(): number {
    return this.weight;
  }

  get(trainingId: string, tag: string): Series | undefined {
    return this.series.get(seriesKey(trainingId, tag));
  }

  all(): Series[] {
    return [...this.series.values()];
  }

  subscribe(listener: (change: SeriesChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  replace(payloads: SeriesPayload[]): void {
    const keys: string[] = [];
    for (const p of payloads) {
      const n = Math.min(p.steps.length, p.values.length);
      const values = p.values.slice(0, n).map(fromWire);
      const series: Series = {
        trainingId: p.trainingId,
        tag: p.tag,
        steps: p.steps.slice(0, n),
        values,
        epochs: padTo(p.epochs, n),
        wallTimesMs: padTo(p.wallTimesMs, n),
        smoothed: [],
        totalPoints: Math.max(p.totalPoints, n),
        appendedSinceLoad: 0,
        smoother: new EmaSmoother(this.weight),
      };
      this.resmooth(series);
      const key = seriesKey(p.trainingId, p.tag);
      this.series.set(key, series);
      keys.push(key);
    }
    this.notify({ kind: 'replaced', keys });
  }

  /** Appends live points; points at or before a series' last step are dropped (already shown). */
  append(message: AppendMessage): string[] {
    const touched = new Map<string, number>();
    for (const point of message.points) {
      const key = seriesKey(message.trainingId, point.tag);
      const series = this.series.get(key);
      if (!series) continue;
      const lastStep = series.steps.length > 0 ? series.steps[series.steps.length - 1]! : -Infinity;
      if (!(point.step > lastStep)) continue;
      if (!touched.has(key)) touched.set(key, series.steps.length);
      const value = fromWire(point.value);
      series.steps.push(point.step);
      series.values.push(value);
      series.epochs.push(point.epoch);
      series.wallTimesMs.push(point.wallTimeMs);
      series.totalPoints++;
      series.appendedSinceLoad++;
      const wasConstant = series.smoother.constant;
      const smoothed = series.smoother.next(value);
      if (wasConstant && !series.smoother.constant) {
        // The series stopped being constant: TensorBoard would now smooth all of it.
        series.smoothed = smoothSeries(series.values, this.weight);
      } else {
        series.smoothed.push(series.smoother.constant ? value : smoothed);
      }
    }
    for (const [key, from] of touched) this.notify({ kind: 'appended', key, from });
    return [...touched.keys()];
  }

  setSmoothing(weight: number): void {
    if (weight === this.weight) return;
    this.weight = weight;
    for (const series of this.series.values()) this.resmooth(series);
    this.notify({ kind: 'resmoothed' });
  }

  private resmooth(series: Series): void {
    series.smoother = new EmaSmoother(this.weight);
    const out: number[] = new Array(series.values.length);
    for (let i = 0; i < series.values.length; i++) out[i] = series.smoother.next(series.values[i]!);
    series.smoothed = series.smoother.constant ? series.values.slice() : out;
  }

  private notify(change: SeriesChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

function padTo<T>(list: (T | null)[] | undefined, n: number): (T | null)[] {
  const out = Array.isArray(list) ? list.slice(0, n) : [];
  while (out.length < n) out.push(null);
  return out;
}
