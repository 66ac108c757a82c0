/**
 * RVC's change_rms (infer/modules/vc/pipeline.py): mixes the input's loudness envelope into the
 * output. Envelopes are librosa 0.9.1's feature.rms with 1 s frames, ½ s hop, centred with zero
 * padding, stretched to the output length by torch's F.interpolate(mode='linear',
 * align_corners=False). The input's curve is float64 (RVC's high-passed audio is), the output's
 * float32, and torch interpolates each in its own precision; the exponents are float32 tensors.
 */
const f = Math.fround;

export function rmsEnvelope(x: ArrayLike<number>, rate: number): Float64Array {
  const frameLength = Math.floor(rate / 2) * 2;
  const hop = Math.floor(rate / 2);
  const pad = Math.floor(frameLength / 2);
  const frames = 1 + Math.floor(x.length / hop);
  // Prefix sums of x² over the zero-padded signal.
  const prefix = new Float64Array(x.length + 1);
  for (let i = 0; i < x.length; i++) prefix[i + 1] = prefix[i]! + x[i]! * x[i]!;
  const energyBetween = (from: number, to: number): number => {
    const a = Math.min(Math.max(from, 0), x.length);
    const b = Math.min(Math.max(to, 0), x.length);
    return prefix[b]! - prefix[a]!;
  };
  const out = new Float64Array(frames);
  for (let i = 0; i < frames; i++) {
    const start = i * hop - pad;
    out[i] = Math.sqrt(Math.max(0, energyBetween(start, start + frameLength)) / frameLength);
  }
  return out;
}

/** F.interpolate linear, align_corners=False, in float64 (torch's float64 path). */
export function stretchLinear(values: Float64Array, length: number): Float64Array {
  const out = new Float64Array(length);
  const n = values.length;
  const scale = n / length;
  for (let i = 0; i < length; i++) {
    const src = Math.max(scale * (i + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), n - 1);
    const i1 = i0 < n - 1 ? i0 + 1 : i0;
    const lambda1 = Math.min(Math.max(src - i0, 0), 1);
    out[i] = (1 - lambda1) * values[i0]! + lambda1 * values[i1]!;
  }
  return out;
}

/** The same in float32 arithmetic, every step rounded as torch's float kernel rounds it. */
export function stretchLinear32(values: Float64Array, length: number): Float64Array {
  const out = new Float64Array(length);
  const n = values.length;
  const scale = f(n / length);
  for (let i = 0; i < length; i++) {
    const src = Math.max(f(f(scale * (i + 0.5)) - 0.5), 0);
    const i0 = Math.min(Math.floor(src), n - 1);
    const i1 = i0 < n - 1 ? i0 + 1 : i0;
    const lambda1 = Math.min(Math.max(f(src - i0), 0), 1);
    out[i] = f(f(f(1 - lambda1) * values[i0]!) + f(lambda1 * values[i1]!));
  }
  return out;
}

/** Scales `output` in place: rate 1 keeps the output's own envelope, 0 imposes the input's. */
export function mixRms(input: ArrayLike<number>, inputRate: number, output: Float32Array, outputRate: number, rate: number): void {
  const rms1 = stretchLinear(rmsEnvelope(input, inputRate), output.length);
  const rms2 = stretchLinear32(rmsEnvelope(output, outputRate).map(f), output.length);
  const inputExponent = f(1 - rate);
  const outputExponent = f(rate - 1);
  const floor = f(1e-6);
  for (let i = 0; i < output.length; i++) {
    const gain = Math.pow(rms1[i]!, inputExponent) * f(Math.pow(Math.max(rms2[i]!, floor), outputExponent));
    output[i] = output[i]! * gain;
  }
}
