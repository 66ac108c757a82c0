import { ANALYSIS_RATE } from './analysisGrid.ts';

/**
 * RVC's input filter (infer/modules/vc/pipeline.py): `butter(N=5, Wn=48, btype="high", fs=16000)`
 * applied with `filtfilt` (zero phase, odd padding of 3·max(len(a), len(b)) samples, steady-state
 * initial conditions) — the same design steps as scipy.signal, so the coefficients match.
 */
interface Complex {
  re: number;
  im: number;
}
const c = (re: number, im = 0): Complex => ({ re, im });
const add = (a: Complex, b: Complex): Complex => c(a.re + b.re, a.im + b.im);
const sub = (a: Complex, b: Complex): Complex => c(a.re - b.re, a.im - b.im);
const mul = (a: Complex, b: Complex): Complex => c(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
const div = (a: Complex, b: Complex): Complex => {
  const d = b.re * b.re + b.im * b.im;
  return c((a.re * b.re + a.im * b.im) / d, (a.im * b.re - a.re * b.im) / d);
};

function poly(roots: Complex[]): number[] {
  let coeffs: Complex[] = [c(1)];
  for (const r of roots) {
    const next: Complex[] = coeffs.map((x) => c(x.re, x.im)).concat([c(0)]);
    for (let i = 1; i < next.length; i++) next[i] = sub(next[i]!, mul(r, coeffs[i - 1]!));
    coeffs = next;
  }
  return coeffs.map((x) => x.re);
}

export interface Filter {
  b: number[];
  a: number[];
}

/** Digital Butterworth high-pass, as scipy.signal.butter(order, cutoff, 'high', fs=rate). */
export function butterHighPass(order: number, cutoffHz: number, rate: number): Filter {
  const poles: Complex[] = [];
  for (let m = -order + 1; m < order; m += 2) {
    const angle = (Math.PI * m) / (2 * order);
    poles.push(c(-Math.cos(angle), -Math.sin(angle)));
  }
  const fs2 = 2 * rate;
  const warped = 2 * rate * Math.tan((Math.PI * cutoffHz) / rate);
  // lp2hp: poles → ωo / p, n zeros at the origin, gain 1 / Π(−p)
  const hpPoles = poles.map((p) => div(c(warped), p));
  let k = 1 / poles.reduce((acc, p) => mul(acc, c(-p.re, -p.im)), c(1)).re;
  // bilinear: z → (fs2 + z) / (fs2 − z)
  const zPoles = hpPoles.map((p) => div(add(c(fs2), p), sub(c(fs2), p)));
  const zZeros = poles.map(() => c(1));
  const num = Math.pow(fs2, order);
  const den = hpPoles.reduce((acc, p) => mul(acc, sub(c(fs2), p)), c(1));
  k *= div(c(num), den).re;
  return { b: poly(zZeros).map((x) => x * k), a: poly(zPoles) };
}

/** Initial state for a step response at rest, as scipy.signal.lfilter_zi. */
export function lfilterZi({ b, a }: Filter): number[] {
  const n = a.length - 1;
  // Solve (I − Aᵀ) zi = b[1:] − a[1:]·b[0], with A the companion matrix of a.
  const m: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = new Array<number>(n).fill(0);
    row[i] = 1;
    m.push(row);
  }
  for (let i = 0; i < n; i++) {
    // companion(a).T: first column is −a[1:]/a[0], superdiagonal of the transpose is 1
    m[i]![0]! += a[i + 1]! / a[0]!;
    if (i + 1 < n) m[i]![i + 1]! -= 1;
  }
  const rhs = Array.from({ length: n }, (_, i) => b[i + 1]! - a[i + 1]! * b[0]!);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    [rhs[col], rhs[pivot]] = [rhs[pivot]!, rhs[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = m[r]![col]! / m[col]![col]!;
      for (let k = col; k < n; k++) m[r]![k]! -= f * m[col]![k]!;
      rhs[r]! -= f * rhs[col]!;
    }
  }
  const zi = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = rhs[r]!;
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * zi[k]!;
    zi[r] = s / m[r]![r]!;
  }
  return zi;
}

function lfilterInPlace({ b, a }: Filter, x: Float64Array, zi: number[]): void {
  const n = a.length - 1;
  const z = zi.slice();
  const a0 = a[0]!;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const y = (b[0]! * xi + z[0]!) / a0;
    for (let k = 0; k < n - 1; k++) z[k] = b[k + 1]! * xi + z[k + 1]! - (a[k + 1]! * y) / a0;
    z[n - 1] = b[n]! * xi - (a[n]! * y) / a0;
    x[i] = y;
  }
}

/** Zero-phase filtering, as scipy.signal.filtfilt(b, a, x) with its defaults (padtype 'odd'), in float64 as scipy computes and returns it. */
export function filtfilt(filter: Filter, x: ArrayLike<number>): Float64Array {
  const padlen = 3 * Math.max(filter.a.length, filter.b.length);
  if (x.length <= padlen) throw new Error(`filtfilt needs more than ${padlen} samples, got ${x.length}`);
  const n = x.length;
  const ext = new Float64Array(n + 2 * padlen);
  for (let i = 0; i < padlen; i++) ext[i] = 2 * x[0]! - x[padlen - i]!;
  for (let i = 0; i < n; i++) ext[padlen + i] = x[i]!;
  for (let i = 0; i < padlen; i++) ext[padlen + n + i] = 2 * x[n - 1]! - x[n - 2 - i]!;
  const zi = lfilterZi(filter);
  lfilterInPlace(
    filter,
    ext,
    zi.map((z) => z * ext[0]!),
  );
  ext.reverse();
  lfilterInPlace(
    filter,
    ext,
    zi.map((z) => z * ext[0]!),
  );
  ext.reverse();
  return ext.slice(padlen, padlen + n);
}

let rvcFilter: Filter | undefined;

/** The 48 Hz high-pass RVC applies to 16 kHz input before feature and f0 extraction; float64 like RVC's `audio` from there on. */
export function rvcHighPass(audio16k: Float32Array): Float64Array {
  rvcFilter ??= butterHighPass(5, 48, ANALYSIS_RATE);
  return filtfilt(rvcFilter, audio16k);
}
