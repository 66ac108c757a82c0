import type { Store } from '../store/store.ts';
import { weightsWithEpoch } from '../store/artifactRepository.ts';
import { epochValues } from '../store/metricsRepository.ts';

/**
 * Best-epoch suggestion and overtraining warning.
 *
 * Method (documented here because users act on it):
 * 1. The curve is the generator loss: `loss/g/total` from the events file (gen + fm + mel + kl),
 *    or, for a run known only from its log lines, `loss/g/gen`.
 * 2. Per epoch, the mean of its finite points (NaN/Inf steps are fp16 overflow, not loss).
 * 3. Smoothed over epochs with TensorBoard's debiased exponential moving average
 *    (`last = last·w + (1−w)·y; smoothed = last / (1 − wⁿ)`), w = 0.6 by default, the same weight
 *    the chart uses, so the suggestion matches what the user sees.
 * 4. Best epoch: among the epochs that have a saved small model (`{name}_e{E}_s{S}.pth`; the only
 *    files a user can pick), the one with the lowest smoothed loss. With no saved small model, the
 *    lowest smoothed epoch overall is reported with `saved: false`.
 * 5. Overtraining: the smoothed loss reached its minimum at epoch m and the run went on for
 *    `patience` or more epochs after m without getting below `min · (1 − minImprovement)`.
 *    RVC users stop when the generator loss stops falling (RVC #1687, #911): past that point the
 *    model memorises the dataset and the voice degrades.
 */

export interface EpochValue {
  epoch: number;
  value: number;
}

export interface EpochAnalysis {
  tag: string;
  smoothing: number;
  perEpoch: { epoch: number; mean: number; smoothed: number }[];
  best: { epoch: number; smoothed: number; saved: boolean } | null;
  overtraining: { sinceEpoch: number; epochsWithoutImprovement: number; message: string } | null;
}

export interface AnalysisOptions {
  smoothing?: number;
  patience?: number;
  minImprovement?: number;
}

export const DEFAULT_SMOOTHING = 0.6;
export const DEFAULT_PATIENCE = 20;
export const DEFAULT_MIN_IMPROVEMENT = 0.001;
export const GENERATOR_LOSS_TAGS = ['loss/g/total', 'loss/g/gen'];

/** TensorBoard's classic smoothing (data_transformer.ts::classicSmoothing), for finite values. */
export function smoothDebiased(values: number[], weight: number): number[] {
  const w = Math.min(Math.max(weight, 0), 1);
  let last = 0;
  let n = 0;
  return values.map((y) => {
    if (!Number.isFinite(y)) return y;
    last = last * w + (1 - w) * y;
    n++;
    return w === 1 ? last : last / (1 - w ** n);
  });
}

/** Pure analysis of per-step points grouped by epoch; `savedEpochs` are the epochs with a small model. */
export function analyzeEpochs(tag: string, points: EpochValue[], savedEpochs: number[], options: AnalysisOptions = {}): EpochAnalysis {
  const smoothing = options.smoothing ?? DEFAULT_SMOOTHING;
  const patience = options.patience ?? DEFAULT_PATIENCE;
  const minImprovement = options.minImprovement ?? DEFAULT_MIN_IMPROVEMENT;
  const sums = new Map<number, { sum: number; n: number }>();
  for (const { epoch, value } of points) {
    if (!Number.isFinite(value)) continue;
    const s = sums.get(epoch) ?? { sum: 0, n: 0 };
    s.sum += value;
    s.n++;
    sums.set(epoch, s);
  }
  const epochs = [...sums.keys()].sort((a, b) => a - b);
  const means = epochs.map((e) => sums.get(e)!.sum / sums.get(e)!.n);
  const smoothed = smoothDebiased(means, smoothing);
  const perEpoch = epochs.map((epoch, i) => ({ epoch, mean: means[i]!, smoothed: smoothed[i]! }));
  if (perEpoch.length === 0) return { tag, smoothing, perEpoch, best: null, overtraining: null };

  const saved = new Set(savedEpochs);
  const candidates = perEpoch.filter((p) => saved.has(p.epoch));
  const pool = candidates.length > 0 ? candidates : perEpoch;
  const bestPoint = pool.reduce((a, b) => (b.smoothed < a.smoothed ? b : a));
  const best = { epoch: bestPoint.epoch, smoothed: bestPoint.smoothed, saved: candidates.length > 0 };

  let minIndex = 0;
  for (let i = 1; i < perEpoch.length; i++) {
    if (perEpoch[i]!.smoothed < perEpoch[minIndex]!.smoothed * (1 - minImprovement)) minIndex = i;
  }
  const minEpoch = perEpoch[minIndex]!.epoch;
  const lastEpoch = perEpoch[perEpoch.length - 1]!.epoch;
  const stale = lastEpoch - minEpoch;
  const overtraining =
    stale >= patience
      ? {
          sinceEpoch: minEpoch,
          epochsWithoutImprovement: stale,
          message: `The smoothed ${tag} has not improved for ${stale} epochs (best at epoch ${minEpoch}); training longer may overtrain — consider the model from epoch ${best.epoch}.`,
        }
      : null;
  return { tag, smoothing, perEpoch, best, overtraining };
}

/** The analysis for a stored training; null when it has no generator loss with epochs yet. */
export function bestEpochOf(
  store: Store,
  trainingId: string,
  options: AnalysisOptions = {},
): (EpochAnalysis & { bestModelPath: string | null }) | null {
  for (const tag of GENERATOR_LOSS_TAGS) {
    const rows: EpochValue[] = epochValues(store, trainingId, tag);
    if (rows.length === 0) continue;
    const models = weightsWithEpoch(store, trainingId);
    const analysis = analyzeEpochs(
      tag,
      rows,
      models.map((m) => m.epoch),
      options,
    );
    const bestModelPath = analysis.best?.saved ? (models.find((m) => m.epoch === analysis.best!.epoch)?.path ?? null) : null;
    return { ...analysis, bestModelPath };
  }
  return null;
}
