/**
 * Band-limited resampling by a Kaiser-windowed sinc, for any pair of integer rates.
 *
 * Design (documented promise, checked by test/unit/inference/resampler.test.ts):
 *   passband  0 … 0.9 × the lower Nyquist frequency: ripple ≤ ±0.05 dB
 *   stopband  ≥ the lower Nyquist frequency: attenuation ≥ 70 dB (Kaiser β for 80 dB)
 * The cutoff sits at 0.95 × the lower Nyquist with a transition band 0.9 … 1.0 of it, so nothing
 * folds back below the new Nyquist when downsampling and no images appear when upsampling.
 */
const PASS_EDGE = 0.9;
const STOP_ATTENUATION_DB = 80;

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export interface ResamplerDesign {
  /** Cutoff in cycles per input sample. */
  cutoff: number;
  /** Half the kernel length, in input samples. */
  halfWidth: number;
  beta: number;
}

export function designResampler(fromRate: number, toRate: number): ResamplerDesign {
  const ratio = Math.min(1, toRate / fromRate);
  const nyquist = 0.5 * ratio; // the lower Nyquist, in cycles per input sample
  const transition = (1 - PASS_EDGE) * nyquist;
  const cutoff = nyquist - transition / 2;
  const beta = 0.1102 * (STOP_ATTENUATION_DB - 8.7);
  // Kaiser's length formula: N ≈ (A − 7.95) / (14.36 Δf), Δf in cycles per sample.
  const taps = (STOP_ATTENUATION_DB - 7.95) / (14.36 * transition);
  return { cutoff, halfWidth: Math.ceil(taps / 2), beta };
}

function kernel(design: ResamplerDesign, x: number, i0beta: number): number {
  const { cutoff, halfWidth, beta } = design;
  if (Math.abs(x) >= halfWidth) return 0;
  const arg = 2 * Math.PI * cutoff * x;
  const sinc = x === 0 ? 1 : Math.sin(arg) / arg;
  const r = x / halfWidth;
  return 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0beta);
}

/** Resamples mono audio; samples outside the signal count as silence. */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0)
    throw new Error(`bad rates ${fromRate} → ${toRate}`);
  if (fromRate === toRate) return input.slice();
  const g = gcd(fromRate, toRate);
  const up = toRate / g; // output samples per `down` input samples
  const down = fromRate / g;
  const outLength = Math.ceil((input.length * up) / down);
  const output = new Float32Array(outLength);
  const design = designResampler(fromRate, toRate);
  const i0beta = besselI0(design.beta);
  const width = 2 * design.halfWidth + 1;
  // Output n sits at input position n·down/up = i + phase/up; there are only `up` distinct phases.
  const phases = up <= 4096 ? up : 0;
  const table = phases ? new Float64Array(phases * width) : null;
  if (table) {
    for (let p = 0; p < phases; p++) {
      const frac = p / up;
      for (let j = 0; j < width; j++) table[p * width + j] = kernel(design, j - design.halfWidth - frac, i0beta);
    }
  }
  const n = input.length;
  for (let o = 0; o < outLength; o++) {
    const num = o * down;
    const i = Math.floor(num / up);
    const phase = num - i * up;
    const start = i - design.halfWidth;
    let sum = 0;
    if (table) {
      const base = phase * width;
      const jFrom = Math.max(0, -start);
      const jTo = Math.min(width, n - start);
      for (let j = jFrom; j < jTo; j++) sum += input[start + j]! * table[base + j]!;
    } else {
      const frac = phase / up;
      for (let j = 0; j < width; j++) {
        const at = start + j;
        if (at >= 0 && at < n) sum += input[at]! * kernel(design, j - design.halfWidth - frac, i0beta);
      }
    }
    output[o] = sum;
  }
  return output;
}
