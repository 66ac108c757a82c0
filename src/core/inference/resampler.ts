/**
 * Resampling that reproduces libswresample (ffmpeg 5.1) with its default options, so that audio
 * decoded here equals what RVC WebUI's `ffmpeg … -ar 16000` hands its pipeline.
 *
 * The facts it follows, from libswresample's resample.c / resample_template.c / swresample.c:
 *  - options: filter_size 32, phase_shift 10 (1024 phases), linear_interp on, exact_rational on,
 *    cutoff 0.97, Kaiser window with β = 9;
 *  - filter: factor = min(out·0.97/in, 1); length = ceil(32/factor) rounded up to even; tap i of
 *    phase ph is sinc(π·(i − center − ph/P)·factor) times the Kaiser window I0(β·√(1 − w²)), every
 *    phase divided by the sum of phase 0; for an even phase count only phases 0…P/2 are computed and
 *    the rest are their mirror images; row P is row 0 moved one tap later (the linear-interpolation
 *    partner of phase P − 1);
 *  - phases: P = out/gcd when that is ≤ 1024 (the step is then a whole number of phases and every
 *    output uses one phase exactly), else 1024 phases with a fractional step and a linear blend of
 *    the two neighbouring phases;
 *  - edges: the start is mirrored without repeating sample 0 (`invert_initial_buffer`), the end is
 *    reflected repeating the last sample (`resample_flush`) by half of what is still buffered, and
 *    output stops where the filter would run past the padded end.
 * The filter bank is stored at the precision libswresample computes in (float for FLTP, double for
 * DBLP); the sums here run in float64 and are rounded once, where ffmpeg's SIMD sums in float32, so
 * float outputs differ from ffmpeg's by about 1e-7.
 */

/** libswresample's internal sample format: FLTP for ≤ 32-bit input, DBLP for 64-bit float input. */
export type Precision = 'float' | 'double';

const FILTER_SIZE = 32;
const MAX_PHASES = 1 << 10;
const CUTOFF = 0.97;
const KAISER_BETA = 9;
/** av_reduce's bound on the step fraction: rates whose step does not reduce under it are refused. */
const MAX_INCREMENT = 0x3fffffff;
/** The vector width of libswresample's x86 AVX/FMA3 kernels, which any recent x86-64 CPU runs. */
const SIMD_BYTES = 32;

interface FilterBank {
  precision: Precision;
  /** Taps per phase (even). */
  length: number;
  /** Row stride: the length rounded up to 8, as libswresample allocates it. */
  stride: number;
  phases: number;
  /** (phases + 1) rows of `stride` coefficients, already rounded to the bank's precision. */
  rows: Float64Array;
  /** Taps the linear blend's second phase sums (see `nextPhaseTaps`). */
  nextTaps: number;
  /** Output step = dstIncr / srcIncr phases. */
  srcIncr: number;
  dstIncr: number;
}

/** A signal to resample, one array per channel, all the same length. */
export type Channels = readonly Float32Array[] | readonly Float64Array[];

const banks = new Map<string, FilterBank>();

/** Resamples mono audio exactly as `ffmpeg -ar` would for 32-bit float (or narrower) samples. */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  return resampleChannels([input], fromRate, toRate, 'float')[0]!;
}

/**
 * Resamples each channel as libswresample does in one stream; 'float' rounds every output to
 * float32, 'double' keeps float64 (its DBLP path).
 */
export function resampleChannels(channels: readonly Float32Array[], fromRate: number, toRate: number, precision: 'float'): Float32Array[];
export function resampleChannels(channels: Channels, fromRate: number, toRate: number, precision: 'double'): Float64Array[];
export function resampleChannels(
  channels: Channels,
  fromRate: number,
  toRate: number,
  precision: Precision,
): Float32Array[] | Float64Array[];
export function resampleChannels(
  channels: Channels,
  fromRate: number,
  toRate: number,
  precision: Precision,
): Float32Array[] | Float64Array[] {
  checkRates(fromRate, toRate);
  const make = (n: number): Float32Array | Float64Array => (precision === 'float' ? new Float32Array(n) : new Float64Array(n));
  if (fromRate === toRate) {
    return channels.map((c) => {
      const copy = make(c.length);
      copy.set(c);
      return copy;
    }) as Float32Array[] | Float64Array[];
  }
  const bank = filterBank(fromRate, toRate, precision);
  const frames = channels[0]?.length ?? 0;
  const plan = planSteps(bank, frames);
  return channels.map((c) => {
    const out = make(plan.count);
    run(bank, pad(c, bank.length, plan.reflection), out, plan.count);
    return out;
  }) as Float32Array[] | Float64Array[];
}

/** How many samples ffmpeg writes for `frames` input frames at these rates. */
export function resampledLength(frames: number, fromRate: number, toRate: number): number {
  checkRates(fromRate, toRate);
  if (fromRate === toRate) return frames;
  return planSteps(filterBank(fromRate, toRate, 'float'), frames).count;
}

function checkRates(fromRate: number, toRate: number): void {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0)
    throw new Error(`bad rates ${fromRate} → ${toRate}`);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** I0 by its power series: β ≤ 9 keeps every term representable and the sum exact to ~1 ulp. */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; term > sum * 1e-18; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

function filterBank(fromRate: number, toRate: number, precision: Precision): FilterBank {
  const key = `${fromRate}:${toRate}:${precision}`;
  let bank = banks.get(key);
  if (!bank) {
    bank = buildBank(fromRate, toRate, precision);
    banks.set(key, bank);
  }
  return bank;
}

function buildBank(fromRate: number, toRate: number, precision: Precision): FilterBank {
  // The same double expressions as resample_init, so the length rounds the same way.
  const factor = Math.min((toRate * CUTOFF) / fromRate, 1);
  let length = Math.max(Math.ceil(FILTER_SIZE / factor), 1);
  if (length > 1) length += length % 2;
  if (length === 1) throw new Error(`a one-tap filter is not supported (${fromRate} → ${toRate})`);
  const g = gcd(toRate, fromRate);
  const phases = toRate / g <= MAX_PHASES ? toRate / g : MAX_PHASES;
  const stride = Math.ceil(length / 8) * 8;
  const rows = new Float64Array((phases + 1) * stride);
  const round = precision === 'float' ? Math.fround : (v: number): number => v;
  fillPhases(rows, { factor, length, stride, phases }, round);
  // Row P: row 0 one tap later, its first tap taken from the end of row 0's allocation.
  const last = phases * stride;
  rows.copyWithin(last + 1, 0, stride - 1);
  rows[last] = rows[stride - 1]!;
  const [srcIncr, dstIncr] = increments(fromRate, toRate, phases);
  return { precision, length, stride, phases, rows, nextTaps: nextPhaseTaps(length, stride, precision), srcIncr, dstIncr };
}

/**
 * The x86 linear kernel sums whole vectors, past the filter's end up to the vector width. Those
 * taps are zero in every row but row P, whose tap `length` is row 0's last tap: ffmpeg on x86-64
 * adds that one extra product whenever it blends towards row P. (Its aarch64 build runs the C
 * loop, which does not; this follows x86-64, where RVC WebUI mostly runs.)
 */
function nextPhaseTaps(length: number, stride: number, precision: Precision): number {
  const width = SIMD_BYTES / (precision === 'float' ? 4 : 8);
  const summed = Math.ceil(length / width) * width;
  return summed > length && stride > length ? length + 1 : length;
}

interface Shape {
  factor: number;
  length: number;
  stride: number;
  phases: number;
}

function fillPhases(rows: Float64Array, shape: Shape, round: (v: number) => number): void {
  const { length, stride, phases } = shape;
  const center = (length - 1) >> 1;
  const computed = phases % 2 ? phases : phases / 2 + 1;
  const tab = new Float64Array(length);
  let norm = 0;
  for (let ph = 0; ph < computed; ph++) {
    kaiserSinc(tab, ph, shape, center);
    if (ph === 0) for (let i = 0; i < length; i++) norm += tab[i]!;
    const row = ph * stride;
    for (let i = 0; i < length; i++) rows[row + i] = round(tab[i]! / norm);
    if (phases % 2) continue;
    // Phase P − ph is phase ph reversed; at ph = P/2 this makes the row symmetric from its first half.
    const mirror = (phases - ph) * stride;
    for (let i = 0; i < length; i++) rows[mirror + length - 1 - i] = rows[row + i]!;
  }
}

/** One phase of the Kaiser-windowed sinc, unnormalised, in the order libswresample evaluates it. */
function kaiserSinc(tab: Float64Array, ph: number, shape: Shape, center: number): void {
  const { factor, length, phases } = shape;
  // When upsampling, sin(x) along the taps is ±sin(π·ph/P): computed once with alternating sign.
  let s = factor === 1 ? Math.sin((Math.PI * ph) / phases) * (center & 1 ? 1 : -1) : 0;
  for (let i = 0; i < length; i++) {
    const x = Math.PI * (i - center - ph / phases) * factor;
    let y = x === 0 ? 1 : factor === 1 ? s / x : Math.sin(x) / x;
    const w = (2 * x) / (factor * length * Math.PI);
    y *= besselI0(KAISER_BETA * Math.sqrt(Math.max(1 - w * w, 0)));
    tab[i] = y;
    s = -s;
  }
}

/** The output step as srcIncr/dstIncr phases, scaled up as libswresample does (its frac resolution). */
function increments(fromRate: number, toRate: number, phases: number): [number, number] {
  const den = fromRate * phases;
  const g = gcd(toRate, den);
  let srcIncr = toRate / g;
  let dstIncr = den / g;
  if (srcIncr > MAX_INCREMENT || dstIncr > MAX_INCREMENT) throw new Error(`rates ${fromRate} → ${toRate} are out of range`);
  while (dstIncr < 1 << 20 && srcIncr < 1 << 20) {
    dstIncr *= 2;
    srcIncr *= 2;
  }
  return [srcIncr, dstIncr];
}

interface Plan {
  count: number;
  /** Samples reflected after the end by resample_flush. */
  reflection: number;
}

/**
 * Counts the outputs. The padded stream is (length/2 − 1) mirrored samples, the input, then the
 * flush's reflection; an output is written while its taps fit in what the stream holds at the
 * time: before the flush, the input only; the flush reflects half of what is still unconsumed.
 */
function planSteps(bank: FilterBank, frames: number): Plan {
  const { length, phases, srcIncr, dstIncr } = bank;
  const lead = length / 2 - 1;
  const div = Math.floor(dstIncr / srcIncr);
  const mod = dstIncr % srcIncr;
  // The mirrored start needs length + 1 input samples; a shorter input waits for the flush's
  // reflection to supply them and writes nothing if even that is too little.
  const started = frames >= length + 1;
  const remainingAtFlush = (sample: number): number => (started ? lead + frames - sample : frames);
  let sample = 0;
  let index = 0;
  let frac = 0;
  let count = 0;
  let end = lead + frames;
  if (started) {
    while (sample + length <= end) [sample, index, frac, count] = step(sample, index, frac, count);
  }
  const reflection = (Math.min(remainingAtFlush(sample), length) + 1) >> 1;
  if (!started && frames + reflection < length + 1) return { count: 0, reflection };
  end = lead + frames + reflection;
  while (sample + length <= end) [sample, index, frac, count] = step(sample, index, frac, count);
  return { count, reflection };

  function step(s: number, i: number, f: number, n: number): [number, number, number, number] {
    f += mod;
    i += div;
    if (f >= srcIncr) {
      f -= srcIncr;
      i++;
    }
    s += Math.floor(i / phases);
    return [s, i % phases, f, n + 1];
  }
}

/** The input with libswresample's start mirror (sample 0 not repeated) and end reflection (repeated). */
function pad(input: Float32Array | Float64Array, length: number, reflection: number): Float64Array {
  const lead = length / 2 - 1;
  const n = input.length;
  // One sample more than the stream: the extra tap of `nextPhaseTaps` reads it (ffmpeg reads
  // whatever its buffer holds there; zero is the usual content).
  const padded = new Float64Array(lead + n + reflection + 1);
  for (let j = 0; j < lead; j++) padded[j] = input[lead - j] ?? 0;
  padded.set(input, lead);
  for (let j = 0; j < reflection; j++) padded[lead + n + j] = input[n - 1 - j] ?? 0;
  return padded;
}

function run(bank: FilterBank, src: Float64Array, out: Float32Array | Float64Array, count: number): void {
  const { length, stride, phases, rows, nextTaps, srcIncr, dstIncr } = bank;
  const div = Math.floor(dstIncr / srcIncr);
  const mod = dstIncr % srcIncr;
  let sample = 0;
  let index = 0;
  let frac = 0;
  for (let o = 0; o < count; o++) {
    const row = index * stride;
    let val = 0;
    for (let i = 0; i < length; i++) val += src[sample + i]! * rows[row + i]!;
    // With a whole-phase step frac stays 0 and this is resample_common; otherwise resample_linear.
    if (frac !== 0) {
      let next = 0;
      for (let i = 0; i < nextTaps; i++) next += src[sample + i]! * rows[row + stride + i]!;
      val += ((next - val) * frac) / srcIncr;
    }
    out[o] = val;
    frac += mod;
    index += div;
    if (frac >= srcIncr) {
      frac -= srcIncr;
      index++;
    }
    while (index >= phases) {
      sample++;
      index -= phases;
    }
  }
}
