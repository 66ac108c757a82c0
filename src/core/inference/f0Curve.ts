import * as fs from 'node:fs';
import { msg, UserError, isMissingFile } from '../util/errors.ts';
import { roundHalfEven } from './pitch.ts';

/**
 * RVC WebUI's optional "F0 curve file" (pipeline.py: `time,f0` lines, read into a float32 array).
 * RVC swallows a file it cannot parse and converts without it; here such a file is refused with
 * the line at fault, since a user who gave one expects it to count.
 */
export interface F0Curve {
  /** Seconds, float32 as RVC holds them. */
  times: Float32Array;
  /** Hz, float32. */
  values: Float32Array;
}

/** RVC's frame count is cast to int16, so a curve longer than this wraps; we refuse it instead. */
const MAX_FRAMES = 32767;

export function readF0Curve(file: string): F0Curve {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (isMissingFile(error)) throw new UserError(msg`F0 curve file ${file} does not exist.`, 'not-found');
    throw new UserError(msg`Cannot read the F0 curve file ${file}: ${(error as Error).message}`, 'bad-f0-curve', { cause: error });
  }
  return parseF0Curve(text, file);
}

/** Python's float() of a field: surrounding whitespace allowed, nothing else. */
function pythonFloat(field: string): number {
  const trimmed = field.trim();
  if (/^[+-]?(inf(inity)?|nan)$/i.test(trimmed))
    return trimmed.toLowerCase().includes('nan') ? NaN : trimmed.startsWith('-') ? -Infinity : Infinity;
  if (!/^[+-]?(\d[\d_]*(\.[\d_]*)?|\.\d[\d_]*)(e[+-]?\d+)?$/i.test(trimmed)) return NaN;
  return Number(trimmed.replace(/_/g, ''));
}

export function parseF0Curve(text: string, name: string): F0Curve {
  // lines = f.read().strip("\n").split("\n")
  const lines = text.replace(/^\n+|\n+$/g, '').split('\n');
  const times: number[] = [];
  const values: number[] = [];
  let columns = -1;
  for (const [i, line] of lines.entries()) {
    const fields = line.split(',');
    const numbers = fields.map(pythonFloat);
    const bad = numbers.findIndex((n, j) => Number.isNaN(n) && !/nan/i.test(fields[j]!));
    if (bad >= 0 || fields.length < 2)
      throw new UserError(msg`${name} line ${i + 1} ("${line.slice(0, 40)}") is not "time,f0" (seconds, Hz).`, 'bad-f0-curve');
    if (columns >= 0 && fields.length !== columns)
      throw new UserError(msg`${name} line ${i + 1} has ${fields.length} fields where the lines before have ${columns}.`, 'bad-f0-curve');
    columns = fields.length;
    times.push(numbers[0]!);
    values.push(numbers[1]!);
  }
  for (let i = 1; i < times.length; i++) {
    if (!(times[i]! > times[i - 1]!))
      throw new UserError(
        msg`${name}: the times must increase line by line (line ${i + 1}: ${times[i]} after ${times[i - 1]}).`,
        'bad-f0-curve',
      );
  }
  if (!times.every(Number.isFinite) || !values.every((v) => Number.isFinite(v) && v >= 0))
    throw new UserError(msg`${name} holds a time or f0 that is not a finite number (f0 must be ≥ 0 Hz).`, 'bad-f0-curve');
  const curve = { times: Float32Array.from(times), values: Float32Array.from(values) };
  if (curveFrames(curve) > MAX_FRAMES)
    throw new UserError(
      msg`${name} spans more than ${MAX_FRAMES / 100} s, more than RVC's f0 file can hold; split the input.`,
      'bad-f0-curve',
    );
  return curve;
}

/** delta_t = round((max t − min t)·100 + 1): float32 difference, float64 from there (numpy 1.x). */
function curveFrames({ times }: F0Curve): number {
  const span = Math.fround(times[times.length - 1]! - times[0]!);
  return roundHalfEven(span * 100 + 1);
}

/** numpy.interp(x, xp, fp) for increasing xp: clamped at both ends. */
export function interp(x: number, xp: Float32Array, fp: Float32Array): number {
  const n = xp.length;
  if (x <= xp[0]!) return fp[0]!;
  if (x >= xp[n - 1]!) return fp[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const slope = (fp[hi]! - fp[lo]!) / (xp[hi]! - xp[lo]!);
  return slope * (x - xp[lo]!) + fp[lo]!;
}

/**
 * pipeline.py get_f0: after the key shift (so the curve is not transposed), frames from
 * x_pad·100 on are replaced by the curve sampled at 100 frames/s from t = 0.
 */
export function applyF0Curve(f0: Float64Array, curve: F0Curve, xPad: number): void {
  const frames = curveFrames(curve);
  const xp = curve.times.map((t) => Math.fround(t * 100));
  const start = xPad * 100;
  const count = Math.max(0, Math.min(frames, f0.length - start));
  for (let k = 0; k < count; k++) f0[start + k] = interp(k, xp, curve.values);
}
