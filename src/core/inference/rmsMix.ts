/**
 * RVC's change_rms (infer/lib/audio.py): mixes the input's loudness envelope into the output.
 * Envelopes are librosa.feature.rms with 1 s frames, ½ s hop, centred (zero padded), stretched to
 * the output length by linear interpolation (torch F.interpolate, align_corners=False).
 */
export function rmsEnvelope(x: Float32Array, rate: number): Float64Array {
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
  for (let f = 0; f < frames; f++) {
    const start = f * hop - pad;
    out[f] = Math.sqrt(energyBetween(start, start + frameLength) / frameLength);
  }
  return out;
}

export function stretchLinear(values: Float64Array, length: number): Float64Array {
  const out = new Float64Array(length);
  const n = values.length;
  const scale = n / length;
  for (let i = 0; i < length; i++) {
    const src = Math.max((i + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), n - 1);
    const i1 = Math.min(i0 + 1, n - 1);
    const t = src - i0;
    out[i] = values[i0]! * (1 - t) + values[i1]! * t;
  }
  return out;
}

/** Scales `output` in place: rate 1 keeps the output's own envelope, 0 imposes the input's. */
export function mixRms(input: Float32Array, inputRate: number, output: Float32Array, outputRate: number, rate: number): void {
  const rms1 = stretchLinear(rmsEnvelope(input, inputRate), output.length);
  const rms2 = stretchLinear(rmsEnvelope(output, outputRate), output.length);
  for (let i = 0; i < output.length; i++) {
    const r2 = Math.max(rms2[i]!, 1e-6);
    output[i]! *= Math.pow(rms1[i]!, 1 - rate) * Math.pow(r2, rate - 1);
  }
}
