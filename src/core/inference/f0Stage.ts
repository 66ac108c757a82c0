import type { F0Estimator } from '../../protocol/inferenceWorkerProtocol.ts';
import { msg, UserError } from '../util/errors.ts';
import { applyF0Curve, type F0Curve } from './f0Curve.ts';
import type { OrtSession } from './onnxRuntime.ts';
import { coarsePitch, medianFilter, transpose } from './pitch.ts';
import { rmvpePitch } from './rmvpePitch.ts';
import { NO_RECORDER, type StageRecorder } from './stageDump.ts';
import { yinPitch } from './yinPitch.ts';

/**
 * f0 as RVC's Pipeline.get_f0 makes it: one tracker run over the whole padded input, then
 * (harvest only, filter_radius > 2) a 3-point median, the key shift, the optional F0 curve file,
 * and the coarse pitch — all in float64; pitchf is the result cast to float32.
 */
export interface F0Shaping {
  method: F0Estimator;
  transpose: number;
  filterRadius: number;
  curve: F0Curve | null;
  /** configs' x_pad: where an F0 curve file starts (after the reflected pad). */
  xPad: number;
}

export interface ShapedF0 {
  /** After the key shift and curve file, float64, the tracker's length. */
  f0: Float64Array;
  /** 1..255, same length. */
  coarse: Int32Array;
}

export function shapeF0(raw: Float64Array, shaping: F0Shaping, recorder: StageRecorder = NO_RECORDER): ShapedF0 {
  let f0 = raw;
  // RVC smooths harvest alone, and only from filter_radius 3 up; its kernel is always 3.
  if (shaping.method === 'harvest' && shaping.filterRadius > 2) {
    f0 = medianFilter(raw, 3);
    recorder.record('f0_medfilt_before_key', f0);
  }
  f0 = transpose(f0, shaping.transpose);
  if (shaping.curve) applyF0Curve(f0, shaping.curve, shaping.xPad);
  const coarse = Int32Array.from(f0, coarsePitch);
  recorder.record('f0_after_key', f0);
  recorder.record('f0_coarse', coarse);
  return { f0, coarse };
}

export interface F0Trackers {
  rmvpe: { session: OrtSession; name: string } | null;
}

/** The tracker's raw output for the padded 16 kHz audio (before key and filtering). */
export async function trackF0(
  method: F0Estimator,
  padded: Float32Array,
  pLen: number,
  trackers: F0Trackers,
  recorder: StageRecorder = NO_RECORDER,
): Promise<Float64Array> {
  switch (method) {
    case 'rmvpe':
      if (!trackers.rmvpe) throw new Error('rmvpe f0 without an RMVPE session');
      // 1 + len/160 frames, as RVC's RMVPE returns them; the pipeline keeps the first p_len.
      return rmvpePitch(trackers.rmvpe.session, padded, pLen + 1, trackers.rmvpe.name, recorder);
    case 'yin':
      return Float64Array.from(yinPitch(padded, pLen));
    case 'harvest':
      throw new UserError(
        msg`harvest (WORLD) is not built in yet: use --f0-method rmvpe, or pass the harvest output RVC computed with --f0-raw F.npy.`,
        'f0-method-unavailable',
      );
  }
}

/** `--f0-raw F.npy`: a tracker output given in place of the tracker must cover the padded input. */
export function checkRawF0(raw: Float64Array, pLen: number, file: string): Float64Array {
  if (raw.length < pLen)
    throw new UserError(
      msg`${file} holds ${raw.length} f0 frames but the padded input has ${pLen}: it is not the raw f0 of this input.`,
      'f0-raw-mismatch',
    );
  if (!raw.every((v) => Number.isFinite(v) && v >= 0))
    throw new UserError(msg`${file} holds an f0 that is negative or not finite.`, 'f0-raw-mismatch');
  return raw;
}
