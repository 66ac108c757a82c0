import { msg, UserError } from '../util/errors.ts';

/**
 * RVC's two level steps, with numpy 1.x's float32 arithmetic: the input's peak limit
 * (modules.py vc_single, 0.95) and the output's int16 conversion (pipeline.py, 0.99, × 32768).
 */

/** RVC's peak step (modules.py vc_single): divided by max|x|/0.95 only when that exceeds 1, in float32. */
export function limitPeak(audio: Float32Array): Float32Array {
  let peak = 0;
  for (const v of audio) peak = Math.max(peak, Math.abs(v));
  if (!Number.isFinite(peak)) throw new UserError(msg`The input contains NaN or infinite samples.`, 'not-audio');
  const audioMax = peak / 0.95;
  if (audioMax <= 1) return audio;
  const divisor = Math.fround(audioMax);
  return audio.map((v) => v / divisor);
}

/** RVC's final scaling: × 32768 in float32 (peak limited to 0.99 only above it), truncated toward zero. */
export function toInt16(x: Float32Array): Int16Array {
  let peak = 0;
  for (const v of x) {
    if (!Number.isFinite(v)) throw new Error('the synthesizer produced NaN or infinite samples');
    peak = Math.max(peak, Math.abs(v));
  }
  let scale = 32768;
  const audioMax = peak / 0.99;
  if (audioMax > 1) scale = Math.fround(scale / audioMax);
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.trunc(Math.fround(x[i]! * scale))));
  return out;
}
