// A training's metrics shaped like RVC's: losses that fall with noise, a learning rate that decays,
// per-sub-discriminator tags, and the odd non-finite value a real run produces.
import { toWire, type SeriesPayload } from '../../src/protocol/metricsPanel.ts';

export const RVC_TAGS = [
  'loss/g/total',
  'loss/d/total',
  'loss/g/mel',
  'loss/g/kl',
  'loss/g/fm',
  'learning_rate',
  'grad_norm_g',
  'grad_norm_d',
  'loss/g/0',
  'loss/g/1',
  'loss/d_r/0',
  'loss/d_g/0',
];

/** Deterministic noise, so a drawing is the same on every run. */
function noise(i: number, salt: number): number {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return x - Math.floor(x) - 0.5;
}

export function valueAt(tag: string, step: number, salt = 0): number {
  if (tag === 'learning_rate') return 1e-4 * Math.pow(0.999875, step);
  const base = 10 + tag.length;
  return base * Math.exp(-step / 4000) + 2 + 3 * noise(step, tag.length + salt);
}

export interface SyntheticOptions {
  trainingId: string;
  tags?: string[];
  points: number;
  stepEvery?: number;
  stepsPerEpoch?: number;
  startMs?: number;
  salt?: number;
}

export function syntheticSeries(options: SyntheticOptions): SeriesPayload[] {
  const { trainingId, points, stepEvery = 50, stepsPerEpoch = 500, startMs = Date.UTC(2026, 0, 1), salt = 0 } = options;
  return (options.tags ?? RVC_TAGS).map((tag) => {
    const steps: number[] = [];
    const values: SeriesPayload['values'] = [];
    const epochs: number[] = [];
    const wallTimesMs: number[] = [];
    for (let i = 0; i < points; i++) {
      const step = i * stepEvery;
      steps.push(step);
      // One NaN and one +Infinity in the total generator loss, as a diverging step would log.
      const value = tag === 'loss/g/total' && i === 7 ? NaN : tag === 'loss/g/total' && i === 11 ? Infinity : valueAt(tag, step, salt);
      values.push(toWire(value));
      epochs.push(Math.floor(step / stepsPerEpoch) + 1);
      wallTimesMs.push(startMs + step * 300);
    }
    return { trainingId, tag, steps, values, epochs, wallTimesMs, totalPoints: points };
  });
}
