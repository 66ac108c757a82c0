/**
 * Pitch helpers that follow RVC's pipeline.get_f0 (infer/modules/vc/pipeline.py) number for number.
 */
export const F0_MIN = 50;
export const F0_MAX = 1100;
const MEL_MIN = 1127 * Math.log(1 + F0_MIN / 700);
const MEL_MAX = 1127 * Math.log(1 + F0_MAX / 700);

/** numpy.rint: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Coarse pitch 1..255 from f0 in Hz (0 = unvoiced → 1), RVC's mel formula. */
export function coarsePitch(f0Hz: number): number {
  let mel = 1127 * Math.log(1 + f0Hz / 700);
  if (mel > 0) mel = ((mel - MEL_MIN) * 254) / (MEL_MAX - MEL_MIN) + 1;
  if (mel <= 1) mel = 1;
  if (mel > 255) mel = 255;
  return roundHalfEven(mel);
}

/** f0 × 2^(key/12), in float64 as RVC's get_f0 does (`f0 *= pow(2, f0_up_key / 12)`). */
export function transpose(f0: Float64Array, semitones: number): Float64Array {
  const factor = Math.pow(2, semitones / 12);
  return f0.map((v) => v * factor);
}

/** scipy.signal.medfilt(x, size): zero-padded running median. */
export function medianFilter(x: Float64Array, size: number): Float64Array {
  if (size < 1 || size % 2 === 0) throw new Error('median size must be odd');
  const half = (size - 1) / 2;
  const out = new Float64Array(x.length);
  const window = new Float64Array(size);
  for (let i = 0; i < x.length; i++) {
    for (let j = -half; j <= half; j++) {
      const at = i + j;
      window[j + half] = at >= 0 && at < x.length ? x[at]! : 0;
    }
    window.sort();
    out[i] = window[half]!;
  }
  return out;
}
