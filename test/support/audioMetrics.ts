import { butterHighPass, filtfilt } from '../../src/core/inference/highPass.ts';

/**
 * The comparison metrics of ../shared/fixtures/rvc-fidelity/README.md ("Output character"): the
 * voice there is barely trained, so the full band mostly measures the envelope; hp40 (4th-order
 * Butterworth at 40 Hz, filtfilt) isolates the audio band, env20ms compares it phase-blind.
 */
export function hp40(x: ArrayLike<number>, rate: number): Float64Array {
  return filtfilt(butterHighPass(4, 40, rate), x);
}

/** 10·log10(Σref² / Σ(ref−test)²); Infinity when identical. */
export function snrDb(ref: ArrayLike<number>, test: ArrayLike<number>): number {
  if (ref.length !== test.length) throw new Error(`lengths differ: ${ref.length} vs ${test.length}`);
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < ref.length; i++) {
    signal += ref[i]! * ref[i]!;
    noise += (ref[i]! - test[i]!) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

export function hp40SnrDb(ref: ArrayLike<number>, test: ArrayLike<number>, rate: number): number {
  return snrDb(hp40(ref, rate), hp40(test, rate));
}

/** |Δ| in dB of the 20-ms RMS of the hp40 signals over frames with ref RMS ≥ 1 % of its max: p50, p95, max. */
export function env20ms(ref: ArrayLike<number>, test: ArrayLike<number>, rate: number): { p50: number; p95: number; max: number } {
  const a = hp40(ref, rate);
  const b = hp40(test, rate);
  const frame = Math.round(rate * 0.02);
  const rms = (x: Float64Array, from: number): number => {
    let s = 0;
    for (let i = from; i < from + frame; i++) s += x[i]! * x[i]!;
    return Math.sqrt(s / frame);
  };
  const pairs: [number, number][] = [];
  for (let from = 0; from + frame <= a.length; from += frame) pairs.push([rms(a, from), rms(b, from)]);
  const top = Math.max(...pairs.map(([r]) => r));
  const deltas = pairs
    .filter(([r]) => r >= 0.01 * top)
    .map(([r, t]) => Math.abs(20 * Math.log10(t / r)))
    .sort((x, y) => x - y);
  const at = (q: number): number => deltas[Math.min(deltas.length - 1, Math.floor(q * deltas.length))]!;
  return { p50: at(0.5), p95: at(0.95), max: deltas[deltas.length - 1]! };
}

export function maxRelDiff(ref: ArrayLike<number>, test: ArrayLike<number>): number {
  if (ref.length !== test.length) throw new Error(`lengths differ: ${ref.length} vs ${test.length}`);
  let max = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const d = Math.abs(r - test[i]!);
    if (d === 0) continue;
    max = Math.max(max, d / Math.max(Math.abs(r), 1e-30));
  }
  return max;
}

/** Samples that differ, and by how many LSB at most, between two int16 signals. */
export function lsbDiff(ref: Int16Array, test: Int16Array): { identical: number; maxLsb: number } {
  if (ref.length !== test.length) throw new Error(`lengths differ: ${ref.length} vs ${test.length}`);
  let same = 0;
  let maxLsb = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ref[i]! - test[i]!);
    if (d === 0) same++;
    maxLsb = Math.max(maxLsb, d);
  }
  return { identical: same / ref.length, maxLsb };
}
