import { ANALYSIS_RATE, FRAME_HOP } from './analysisGrid.ts';
import { F0_MAX, F0_MIN } from './pitch.ts';

/**
 * The built-in f0 estimator: YIN (de Cheveigné & Kawahara 2002) on 16 kHz audio, one frame per
 * 160 samples (100 frames/s, RVC's grid), frame i centred on sample i·160. Unvoiced frames are 0,
 * as RVC's estimators report them.
 */
export interface YinOptions {
  rate?: number;
  hop?: number;
  /** Analysis window; 2 × the longest period (50 Hz) so low voices get two full cycles. */
  window?: number;
  threshold?: number;
  /** Frames quieter than this RMS are unvoiced. */
  silence?: number;
  fMin?: number;
  fMax?: number;
}

/** The sizes and thresholds of one run, resolved from the options once. */
interface YinPlan {
  rate: number;
  hop: number;
  fMin: number;
  fMax: number;
  threshold: number;
  silence: number;
  tauMin: number;
  tauMax: number;
  window: number;
  span: number;
}

function planOf(options: YinOptions): YinPlan {
  const rate = options.rate ?? ANALYSIS_RATE;
  const fMin = options.fMin ?? F0_MIN;
  const fMax = options.fMax ?? F0_MAX;
  const tauMax = Math.ceil(rate / fMin);
  const window = options.window ?? Math.ceil(1.25 * tauMax);
  return {
    rate,
    hop: options.hop ?? FRAME_HOP,
    fMin,
    fMax,
    threshold: options.threshold ?? 0.15,
    silence: options.silence ?? 1e-3,
    tauMin: Math.max(2, Math.floor(rate / fMax)),
    tauMax,
    window,
    span: window + tauMax,
  };
}

/** The work buffers, allocated once per run and reused by every frame. */
interface YinBuffers {
  frame: Float64Array;
  diff: Float64Array;
  cmnd: Float64Array;
  /** Prefix sums of x², which give each lagged window's energy in O(1). */
  sq: Float64Array;
}

export function yinPitch(audio: Float32Array, frames: number, options: YinOptions = {}): Float32Array {
  const plan = planOf(options);
  const buffers: YinBuffers = {
    frame: new Float64Array(plan.span),
    diff: new Float64Array(plan.tauMax + 2),
    cmnd: new Float64Array(plan.tauMax + 2),
    sq: new Float64Array(plan.span + 1),
  };
  const f0 = new Float32Array(frames);
  for (let i = 0; i < frames; i++) f0[i] = frameF0(audio, i * plan.hop - Math.floor(plan.span / 2), plan, buffers);
  return f0;
}

/** f0 of the frame whose span starts at `start` (zero outside the audio), or 0 where it is silent or unvoiced. */
function frameF0(audio: Float32Array, start: number, plan: YinPlan, buffers: YinBuffers): number {
  const { frame, sq } = buffers;
  const { span, window } = plan;
  for (let j = 0; j < span; j++) {
    const at = start + j;
    const v = at >= 0 && at < audio.length ? audio[at]! : 0;
    frame[j] = v;
    sq[j + 1] = sq[j]! + v * v;
  }
  let energy = 0;
  for (let j = 0; j < window; j++) energy += frame[j]! * frame[j]!;
  if (Math.sqrt(energy / window) < plan.silence) return 0;
  const last = normalizedDifference(energy, plan, buffers);
  const best = firstDip(buffers.cmnd, plan, last);
  if (best < 0) return 0;
  const hz = plan.rate / refinedPeriod(buffers.cmnd, best, last);
  return hz >= plan.fMin && hz <= plan.fMax ? hz : 0;
}

/** Fills d(τ) and its cumulative mean normalised form d′(τ); returns the last lag computed + 1. */
function normalizedDifference(energy: number, plan: YinPlan, { frame, diff, cmnd, sq }: YinBuffers): number {
  const { window, span, tauMax } = plan;
  // d(τ) = Σ (x_j − x_{j+τ})² = e(0) + e(τ) − 2 r(τ)
  for (let tau = 1; tau <= tauMax + 1 && tau + window <= span; tau++) {
    let r = 0;
    for (let j = 0; j < window; j++) r += frame[j]! * frame[j + tau]!;
    diff[tau] = energy + (sq[tau + window]! - sq[tau]!) - 2 * r;
  }
  const last = Math.min(tauMax + 1, span - window);
  let running = 0;
  cmnd[0] = 1;
  for (let tau = 1; tau <= last; tau++) {
    running += diff[tau]!;
    cmnd[tau] = running > 0 ? (diff[tau]! * tau) / running : 1;
  }
  return last;
}

/** The first lag under the threshold, followed down to its local minimum; -1 where none is (unvoiced). */
function firstDip(cmnd: Float64Array, plan: YinPlan, last: number): number {
  for (let tau = plan.tauMin; tau < last; tau++) {
    if (cmnd[tau]! < plan.threshold) {
      while (tau + 1 < last && cmnd[tau + 1]! < cmnd[tau]!) tau++;
      return tau;
    }
  }
  return -1;
}

/** Parabolic interpolation on d′ around the minimum sharpens the period below one sample. */
function refinedPeriod(cmnd: Float64Array, best: number, last: number): number {
  if (best <= 1 || best >= last) return best;
  const a = cmnd[best - 1]!;
  const b = cmnd[best]!;
  const c = cmnd[best + 1]!;
  const denom = a - 2 * b + c;
  return denom > 0 ? best + (0.5 * (a - c)) / denom : best;
}
