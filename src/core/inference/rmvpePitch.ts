import { msg, UserError } from '../util/errors.ts';
import { ANALYSIS_RATE, FRAME_HOP } from './analysisGrid.ts';
import { onnxRuntime, type OrtSession } from './onnxRuntime.ts';
import { NO_RECORDER, type StageRecorder } from './stageDump.ts';

/**
 * RMVPE through its ONNX export, as RVC's infer/lib/rmvpe.py feeds and decodes it:
 * log-mel [1,128,T] (16 kHz, n_fft 1024, hop 160, Hann, centred with reflect padding, HTK mel
 * 30–8000 Hz with Slaney area norm, log(max(mel, 1e-5))), zero-padded to a multiple of 32 frames,
 * → salience [1,T,360] → local weighted average of cents around the peak, threshold 0.03.
 */
const N_FFT = 1024;
const N_MELS = 128;
const F_MIN = 30;
const F_MAX = 8000;

const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const melToHz = (mel: number): number => 700 * (Math.pow(10, mel / 2595) - 1);

/** One mel filter: its weights and the [from, to) FFT bins where they are not zero (a few dozen of 513). */
interface MelFilter {
  weights: Float64Array;
  from: number;
  to: number;
}

let filterBank: MelFilter[] | undefined;

/** librosa.filters.mel(sr=16000, n_fft=1024, n_mels=128, fmin=30, fmax=8000, htk=True). */
export function melFilterBank(): MelFilter[] {
  if (filterBank) return filterBank;
  const bins = N_FFT / 2 + 1;
  const fftFreqs = Array.from({ length: bins }, (_, i) => (i * ANALYSIS_RATE) / N_FFT);
  const melMin = hzToMel(F_MIN);
  const melMax = hzToMel(F_MAX);
  const points = Array.from({ length: N_MELS + 2 }, (_, i) => melToHz(melMin + ((melMax - melMin) * i) / (N_MELS + 1)));
  filterBank = [];
  for (let m = 0; m < N_MELS; m++) {
    const [lo, mid, hi] = [points[m]!, points[m + 1]!, points[m + 2]!];
    const enorm = 2 / (hi - lo);
    const row = new Float64Array(bins);
    for (let k = 0; k < bins; k++) {
      const f = fftFreqs[k]!;
      row[k] = Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid))) * enorm;
    }
    let from = 0;
    while (from < bins && row[from] === 0) from++;
    let to = bins;
    while (to > from && row[to - 1] === 0) to--;
    filterBank.push({ weights: row, from, to });
  }
  return filterBank;
}

/** In-place iterative radix-2 FFT. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const angle = (-2 * Math.PI) / len;
    const wr = Math.cos(angle);
    const wi = Math.sin(angle);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a]! += tr;
        im[a]! += ti;
        const next = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = next;
      }
    }
  }
}

/** Log-mel spectrogram, row-major [128][frames], frames = 1 + ⌊N / 160⌋. */
export function rmvpeLogMel(audio: Float32Array): { mel: Float32Array; frames: number } {
  const half = N_FFT / 2;
  if (audio.length <= half) throw new UserError(msg`Audio is too short for RMVPE (needs more than 32 ms).`, 'audio-too-short');
  const frames = 1 + Math.floor(audio.length / FRAME_HOP);
  const bank = melFilterBank();
  const window = Float64Array.from({ length: N_FFT }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT));
  const mel = new Float32Array(N_MELS * frames);
  const re = new Float64Array(N_FFT);
  const im = new Float64Array(N_FFT);
  const mag = new Float64Array(half + 1);
  const n = audio.length;
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < N_FFT; i++) {
      let at = f * FRAME_HOP + i - half;
      if (at < 0) at = -at;
      if (at >= n) at = 2 * (n - 1) - at;
      re[i] = audio[at]! * window[i]!;
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 0; k <= half; k++) mag[k] = Math.sqrt(re[k]! * re[k]! + im[k]! * im[k]!);
    for (let m = 0; m < N_MELS; m++) {
      const { weights: w, from, to } = bank[m]!;
      let sum = 0;
      // The same terms in the same order as over all bins: the zero weights outside add nothing.
      for (let k = from; k < to; k++) if (w[k] !== 0) sum += w[k]! * mag[k]!;
      mel[m * frames + f] = Math.log(Math.max(sum, 1e-5));
    }
  }
  return { mel, frames };
}

const CENTS = Float64Array.from({ length: 360 }, (_, i) => 20 * i + 1997.3794084376191);

/** RVC's to_local_average_cents + `f0 = 10·2^(cents/1200)`, 0 where the peak ≤ threshold. */
export function decodeSalience(salience: Float32Array, frames: number, threshold = 0.03): Float64Array {
  // float64 like RVC's decode (float32 salience × float64 cents): the key shift and coarse pitch follow in float64.
  const f0 = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    const row = salience.subarray(t * 360, (t + 1) * 360);
    let center = 0;
    for (let i = 1; i < 360; i++) if (row[i]! > row[center]!) center = i;
    if (row[center]! <= threshold) continue;
    let product = 0;
    let weight = 0;
    for (let i = Math.max(0, center - 4); i < Math.min(360, center + 5); i++) {
      product += row[i]! * CENTS[i]!;
      weight += row[i]!;
    }
    const hz = 10 * Math.pow(2, product / weight / 1200);
    f0[t] = hz === 10 ? 0 : hz;
  }
  return f0;
}

interface TensorMeta {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: (number | string)[];
}

/**
 * Checks the signature RVC's rmvpe.onnx has (one float32 log-mel [1,128,T] in, salience [1,T,360]
 * out), so a wrong file given as RMVPE fails with a line naming the mismatch before any audio work,
 * not with an onnxruntime dimension error cut mid-sentence.
 */
export function checkRmvpe(name: string, session: OrtSession): void {
  const inputs = session.inputMetadata as readonly TensorMeta[];
  const outputs = session.outputMetadata as readonly TensorMeta[];
  const shape = (meta: TensorMeta): string => `[${(meta.shape ?? []).join(',')}]`;
  const problems: string[] = [];
  const input = inputs[0];
  if (inputs.length !== 1 || !input) problems.push(`it takes ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}), not one`);
  else if (!input.isTensor || input.type !== 'float32')
    problems.push(`input "${input.name}" is ${input.type ?? 'not a tensor'}, not float32`);
  else if (input.shape && (input.shape.length !== 3 || (typeof input.shape[1] === 'number' && input.shape[1] !== N_MELS))) {
    problems.push(`input "${input.name}" is ${shape(input)}, not a [1,128,T] log-mel`);
  }
  const output = outputs[0];
  if (!output) problems.push('it has no output');
  else if (output.shape && (output.shape.length !== 3 || (typeof output.shape[2] === 'number' && output.shape[2] !== 360))) {
    problems.push(`output "${output.name}" is ${shape(output)}, not [1,T,360] salience`);
  }
  if (problems.length > 0)
    throw new UserError(msg`${name} is not an RMVPE pitch model (${problems.join('; ')}); use RVC's rmvpe.onnx.`, 'bad-rmvpe');
}

export async function rmvpePitch(
  session: OrtSession,
  audio16k: Float32Array,
  frames: number,
  name = 'The model given as RMVPE',
  recorder: StageRecorder = NO_RECORDER,
): Promise<Float64Array> {
  checkRmvpe(name, session);
  const ort = onnxRuntime();
  const { mel, frames: melFrames } = rmvpeLogMel(audio16k);
  recorder.record('rmvpe_mel_unpadded', mel, [1, N_MELS, melFrames]);
  const paddedFrames = 32 * (Math.floor((melFrames - 1) / 32) + 1);
  const input = new Float32Array(N_MELS * paddedFrames);
  for (let m = 0; m < N_MELS; m++) input.set(mel.subarray(m * melFrames, (m + 1) * melFrames), m * paddedFrames);
  let out;
  try {
    out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, [1, N_MELS, paddedFrames]) });
  } catch (error) {
    throw new UserError(msg`${name} did not accept a [1,128,T] mel input: ${(error as Error).message.split('\n')[0]}`, 'bad-rmvpe');
  }
  const hidden = out[session.outputNames[0]!]!;
  // A model that drops frames would otherwise leave the tail silently unvoiced.
  if (hidden.type !== 'float32' || hidden.dims.length !== 3 || hidden.dims[2] !== 360 || hidden.dims[1]! < melFrames) {
    throw new UserError(
      msg`${name} returned ${hidden.type} [${hidden.dims.join(',')}] for ${paddedFrames} mel frames, not float32 [1,${paddedFrames},360].`,
      'bad-rmvpe',
    );
  }
  const decoded = decodeSalience(hidden.data as Float32Array, melFrames);
  const f0 = new Float64Array(frames);
  f0.set(decoded.subarray(0, Math.min(frames, decoded.length)));
  return f0;
}
