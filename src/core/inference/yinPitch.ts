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

export function yinPitch(audio: Float32Array, frames: number, options: YinOptions = {}): Float32Array {
  const rate = options.rate ?? ANALYSIS_RATE;
  const hop = options.hop ?? FRAME_HOP;
  const fMin = options.fMin ?? F0_MIN;
  const fMax = options.fMax ?? F0_MAX;
  const threshold = options.threshold ?? 0.15;
  const silence = options.silence ?? 1e-3;
  const tauMin = Math.max(2, Math.floor(rate / fMax));
  const tauMax = Math.ceil(rate / fMin);
  const window = options.window ?? Math.ceil(1.25 * tauMax);
  const span = window + tauMax;
  const f0 = new Float32Array(frames);
  const frame = new Float64Array(span);
  const diff = new Float64Array(tauMax + 2);
  const cmnd = new Float64Array(tauMax + 2);
  // Prefix sums of x² give each lagged window's energy in O(1).
  const sq = new Float64Array(span + 1);
  for (let i = 0; i < frames; i++) {
    const start = i * hop - Math.floor(span / 2);
    let energy = 0;
    for (let j = 0; j < span; j++) {
      const at = start + j;
      const v = at >= 0 && at < audio.length ? audio[at]! : 0;
      frame[j] = v;
      sq[j + 1] = sq[j]! + v * v;
    }
    for (let j = 0; j < window; j++) energy += frame[j]! * frame[j]!;
    if (Math.sqrt(energy / window) < silence) continue;
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
    let best = -1;
    for (let tau = tauMin; tau < last; tau++) {
      if (cmnd[tau]! < threshold) {
        while (tau + 1 < last && cmnd[tau + 1]! < cmnd[tau]!) tau++;
        best = tau;
        break;
      }
    }
    if (best < 0) continue;
    // Parabolic interpolation on d′ around the minimum sharpens the period below one sample.
    let period = best;
    if (best > 1 && best < last) {
      const a = cmnd[best - 1]!;
      const b = cmnd[best]!;
      const c = cmnd[best + 1]!;
      const denom = a - 2 * b + c;
      if (denom > 0) period = best + (0.5 * (a - c)) / denom;
    }
    const hz = rate / period;
    f0[i] = hz >= fMin && hz <= fMax ? hz : 0;
  }
  return f0;
}
