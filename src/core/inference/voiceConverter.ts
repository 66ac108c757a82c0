import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  RANGED_PARAMS,
  rangeProblem,
  type ConvertParams,
  type ConvertProgress,
  type ConvertResult,
  type ConvertStage,
  type RangedParam,
} from '../../protocol/inferenceWorkerProtocol.ts';
import { ensureExported, exportsDir, isPthModel } from '../models/exportCache.ts';
import { UserError } from '../util/errors.ts';
import { loadAudio } from './audioInput.ts';
import { readIvfFlatIndex, searchIvfFlat, type IvfFlatIndex } from './faissIndex.ts';
import { rvcHighPass } from './highPass.ts';
import { checkSynthesizer, describeSession, requireFile } from './onnxModel.ts';
import { onnxRuntime, openSession, type OrtSession } from './onnxRuntime.ts';
import { applyFilterRadius, coarsePitch, transpose } from './pitch.ts';
import { resample } from './resampler.ts';
import { checkRmvpe, rmvpePitch } from './rmvpePitch.ts';
import { mixRms } from './rmsMix.ts';
import { wavHeader16 } from './wavFile.ts';
import { yinPitch } from './yinPitch.ts';

/**
 * RVC's conversion pipeline (infer/modules/vc/pipeline.py, fp32 constants) on onnxruntime-node:
 * 16 kHz → 48 Hz high-pass → f0 over the whole padded input → per chunk: ContentVec features,
 * index retrieval, 2× upsampling, protect, synthesis → trim pads → rms mix → resample → int16 WAV.
 * Chunks are cut at the quietest point near every t_center, so memory stays bounded by a chunk.
 */
const SR = 16000;
const WINDOW = 160;
// RVC sizes chunks for GPU memory (fp32: pad 1 s, query 6, center 38, max 41 s). On a CPU the
// synthesizer's activations for a 38 s chunk reach gigabytes with a full-width model, so chunks are
// 15 s here; the 1 s of context on each side is RVC's, so a cut sounds the same.
const X_PAD = 1;
const X_QUERY = 3;
const X_CENTER = 15;
const X_MAX = 17;

/**
 * The prior's noise scale of RVC's WebUI conversions (models.py .infer(): randn · 0.66666). RVC's
 * ONNX graphs take `rnd` as given and its onnx_inference.py feeds std 1, half again as much; we
 * feed what the WebUI uses, so a voice sounds here as it does there.
 */
const LATENT_NOISE_SCALE = 0.66666;

export interface ConvertHooks {
  onProgress?: (progress: ConvertProgress) => void;
  /** Polled between chunks: cancellation is cooperative, never mid session.run. */
  isCancelled?: () => boolean;
}

export class ConversionCancelled extends Error {
  override name = 'ConversionCancelled';
}

interface CachedSession {
  key: string;
  session: OrtSession;
}

interface CachedIndex {
  key: string;
  index: IvfFlatIndex;
  /** faiss reconstruct_n: row id → vector, what RVC calls big_npy. */
  vectors: Float32Array;
}

function fileKey(file: string, extra = ''): string {
  const stat = fs.statSync(file);
  return `${path.resolve(file)}:${stat.size}:${stat.mtimeMs}:${extra}`;
}

/** Reflect padding as numpy's mode="reflect" (the edge sample is not repeated). */
export function reflectPad(x: Float32Array, left: number, right: number): Float32Array {
  const n = x.length;
  const out = new Float32Array(n + left + right);
  const period = 2 * (n - 1);
  for (let i = 0; i < out.length; i++) {
    let j = i - left;
    if (n === 1) j = 0;
    else {
      j = ((j % period) + period) % period;
      if (j >= n) j = period - j;
    }
    out[i] = x[j]!;
  }
  return out;
}

/** Where RVC cuts long input: the quietest sample within ±t_query of every t_center. */
export function quietCutPoints(audio: Float32Array): number[] {
  const tQuery = SR * X_QUERY;
  const tCenter = SR * X_CENTER;
  const tMax = SR * X_MAX;
  if (audio.length + 2 * (WINDOW / 2) <= tMax) return [];
  const padded = reflectPad(audio, WINDOW / 2, WINDOW / 2);
  // audio_sum[j] = Σ_{i<window} |padded[j+i]|, a running sum
  const sum = new Float64Array(audio.length);
  let acc = 0;
  for (let i = 0; i < WINDOW; i++) acc += Math.abs(padded[i]!);
  for (let j = 0; j < audio.length; j++) {
    sum[j] = acc;
    acc += Math.abs(padded[j + WINDOW]!) - Math.abs(padded[j]!);
  }
  const cuts: number[] = [];
  for (let t = tCenter; t < audio.length; t += tCenter) {
    let best = t - tQuery;
    const end = Math.min(t + tQuery, audio.length);
    for (let j = t - tQuery; j < end; j++) if (sum[j]! < sum[best]! - 1e-9) best = j;
    cuts.push(best);
  }
  return cuts;
}

/** A seeded standard normal source (Box–Muller on a 32-bit xorshift), or Math.random when unseeded. */
export function normalSource(seed: number | null): () => number {
  let state = seed === null ? 0 : seed >>> 0 || 0x9e3779b9;
  const uniform =
    seed === null
      ? Math.random
      : (): number => {
          state ^= state << 13;
          state >>>= 0;
          state ^= state >>> 17;
          state ^= state << 5;
          state >>>= 0;
          return (state + 0.5) / 4294967296;
        };
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export function checkParams(p: ConvertParams): void {
  const names: Record<RangedParam, string> = {
    transpose: 'transpose',
    indexRate: 'index rate',
    filterRadius: 'filter radius',
    rmsMixRate: 'rms mix rate',
    protect: 'protect',
    resampleSr: 'resample rate',
    sid: 'speaker id',
  };
  for (const key of RANGED_PARAMS) {
    const problem = rangeProblem(key, p[key]);
    if (problem) throw new UserError(`${names[key]} ${problem} (got ${p[key]}).`, 'usage');
  }
  if (p.f0Method === 'rmvpe' && !p.rmvpePath)
    throw new UserError('f0 method rmvpe needs an RMVPE model: pass --rmvpe path/to/rmvpe.onnx, or use --f0-method yin.', 'usage');
}

export class VoiceConverter {
  private sessions = new Map<string, CachedSession>();
  private cachedIndex: CachedIndex | null = null;

  /** Sessions are kept per role, so a panel converting file after file loads each model once. */
  private async session(role: string, file: string, threads: number): Promise<OrtSession> {
    const key = fileKey(file, String(threads));
    const cached = this.sessions.get(role);
    if (cached?.key === key) return cached.session;
    if (cached) await cached.session.release();
    this.sessions.delete(role);
    const session = await openSession(file, { threads });
    this.sessions.set(role, { key, session });
    return session;
  }

  private loadIndex(file: string): CachedIndex {
    const key = fileKey(file);
    if (this.cachedIndex?.key === key) return this.cachedIndex;
    const index = readIvfFlatIndex(file);
    const vectors = new Float32Array(index.ntotal * index.d);
    for (const list of index.lists) {
      for (let v = 0; v < list.ids.length; v++) {
        const id = Number(list.ids[v]!);
        if (id < 0 || id >= index.ntotal)
          throw new UserError(`${file}: vector id ${id} is outside 0..${index.ntotal - 1}; rebuild the index with RVC.`, 'bad-index');
        vectors.set(list.vectors.subarray(v * index.d, (v + 1) * index.d), id * index.d);
      }
    }
    this.cachedIndex = { key, index, vectors };
    return this.cachedIndex;
  }

  /** The ONNX to run: the model itself, or for a `.pth` its export (made once, then cached). */
  private async synthesizerFile(
    params: ConvertParams,
    onProgress: (done: number, total: number) => void,
  ): Promise<{ file: string; sampleRate: number }> {
    if (!isPthModel(params.modelPath)) {
      if (!params.modelSampleRate)
        throw new UserError(
          `The sample rate of ${path.basename(params.modelPath)} is unknown: pass --sr 32k|40k|48k.`,
          'unknown-sample-rate',
        );
      return { file: params.modelPath, sampleRate: params.modelSampleRate };
    }
    const cacheDir = params.exportDir ?? exportsDir(path.dirname(path.resolve(params.outputPath)));
    const exported = await ensureExported(cacheDir, params.modelPath, { onProgress });
    return { file: exported.file, sampleRate: params.modelSampleRate || exported.sidecar.sampleRate };
  }

  async dispose(): Promise<void> {
    for (const { session } of this.sessions.values()) await session.release();
    this.sessions.clear();
    this.cachedIndex = null;
  }

  async convert(params: ConvertParams, hooks: ConvertHooks = {}): Promise<ConvertResult> {
    const started = performance.now();
    const stages = { export: 0, load: 0, decode: 0, resample: 0, features: 0, f0: 0, index: 0, synthesis: 0, post: 0 } satisfies Record<
      ConvertStage,
      number
    >;
    let mark = performance.now();
    const lap = (stage: ConvertStage): void => {
      const now = performance.now();
      stages[stage] += now - mark;
      mark = now;
    };
    const progress = (stage: ConvertStage, done = 1, total = 1): void => hooks.onProgress?.({ stage, done, total });
    // Yields to the event loop first, so a cancel message posted meanwhile has been received.
    const checkCancel = async (): Promise<void> => {
      await new Promise((resolve) => setImmediate(resolve));
      if (hooks.isCancelled?.()) throw new ConversionCancelled('cancelled');
    };
    checkParams(params);

    // load: every model and the index first, so a wrong file fails before any audio work
    requireFile(params.modelPath, 'Model');
    if (!params.contentVecPath)
      throw new UserError(
        'No ContentVec model given: pass --contentvec path/to/vec-768-layer-12.onnx (or vec-256-layer-9.onnx for v1 models).',
        'contentvec-missing',
      );
    requireFile(params.contentVecPath, 'ContentVec');
    const synthesizer = await this.synthesizerFile(params, (done, total) => progress('export', done, total));
    lap('export');
    const synth = await this.session('synthesizer', synthesizer.file, params.threads);
    const description = describeSession(params.modelPath, synth);
    const width = checkSynthesizer(description);
    const usesPitch = description.f0 !== false;
    const vec = await this.session('contentvec', params.contentVecPath, params.threads);
    const vecOut = describeSession(params.contentVecPath, vec).outputs[0];
    const vecWidth = vecOut?.shape[2];
    if (vec.inputNames.length !== 1 || (typeof vecWidth === 'number' && vecWidth !== width)) {
      throw new UserError(
        `${path.basename(params.contentVecPath)} gives ${String(vecWidth)}-wide features but ${path.basename(params.modelPath)} is a ${width === 768 ? 'v2' : 'v1'} model that needs ${width}-wide ones (use vec-${width === 768 ? '768-layer-12' : '256-layer-9'}.onnx).`,
        'contentvec-mismatch',
      );
    }
    let rmvpe: OrtSession | null = null;
    if (usesPitch && params.f0Method === 'rmvpe') {
      requireFile(params.rmvpePath!, 'RMVPE');
      rmvpe = await this.session('rmvpe', params.rmvpePath!, params.threads);
      checkRmvpe(path.basename(params.rmvpePath!), rmvpe);
    }
    let index: CachedIndex | null = null;
    if (params.indexPath && params.indexRate > 0) {
      requireFile(params.indexPath, 'Index');
      index = this.loadIndex(params.indexPath);
      if (index.index.d !== width)
        throw new UserError(
          `${path.basename(params.indexPath)} holds ${index.index.d}-wide features but the model needs ${width}.`,
          'index-mismatch',
        );
    }
    const outDir = path.dirname(path.resolve(params.outputPath));
    if (!fs.existsSync(outDir)) throw new UserError(`Output folder ${outDir} does not exist.`, 'not-found');
    lap('load');
    progress('load');

    // decode
    const decoded = loadAudio(params.inputPath, { maxSeconds: params.maxSeconds });
    const inputSeconds = decoded.samples.length / decoded.sampleRate;
    lap('decode');
    progress('decode');
    await checkCancel();

    // resample to 16 kHz, peak-normalise to 0.95 as vc_single does, 48 Hz high-pass
    let audio = resample(decoded.samples, decoded.sampleRate, SR);
    let peak = 0;
    for (const v of audio) peak = Math.max(peak, Math.abs(v));
    if (!Number.isFinite(peak)) throw new UserError(`${params.inputPath} contains NaN or infinite samples.`, 'not-audio');
    if (peak / 0.95 > 1) audio = audio.map((v) => (v * 0.95) / peak);
    if (audio.length < 2 * WINDOW)
      throw new UserError(
        `${params.inputPath} is too short to convert (${(inputSeconds * 1000).toFixed(0)} ms; at least 20 ms).`,
        'audio-too-short',
      );
    audio = rvcHighPass(audio);
    lap('resample');
    progress('resample');
    await checkCancel();

    const tPad = SR * X_PAD;
    const tgtSr = synthesizer.sampleRate;
    const tPadTgt = tgtSr * X_PAD;
    const tPad2 = tPad * 2;
    const cuts = quietCutPoints(audio);
    const padded = reflectPad(audio, tPad, tPad);
    const pLen = Math.floor(padded.length / WINDOW);

    // f0 over the whole padded input (cheap: 100 values a second), then RVC's transforms; a
    // no-pitch model takes none (RVC's pipeline runs without f0 for it, and without protect).
    let f0: Float32Array = new Float32Array(pLen);
    const coarse = new BigInt64Array(pLen);
    if (usesPitch) {
      f0 = rmvpe ? await rmvpePitch(rmvpe, padded, pLen, path.basename(params.rmvpePath!)) : yinPitch(padded, pLen);
      f0 = applyFilterRadius(transpose(f0, params.transpose), params.filterRadius);
      for (let i = 0; i < pLen; i++) coarse[i] = BigInt(coarsePitch(f0[i]!));
    }
    lap('f0');
    progress('f0');
    await checkCancel();

    const hop = tgtSr / 100;
    const normal = normalSource(params.seed);
    const ort = onnxRuntime();
    const pieces: Float32Array[] = [];
    const total = cuts.length + 1;
    let s = 0;
    let last: number | null = null;
    const convertChunk = async (from: number, to: number, pitchFrom: number, pitchTo: number): Promise<Float32Array> => {
      const segment = padded.subarray(from, to);
      // ContentVec: [1,1,N] → [1,T,C] at 50 frames/s
      const vecResult = await vec.run({
        [vec.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(segment), [1, 1, segment.length]),
      });
      const embed = vecResult[vec.outputNames[0]!]!;
      // One published ContentVec export answers [1,C,T]; the layout is read from the shape.
      const channelsFirst = embed.dims[2] !== width && embed.dims[1] === width;
      let feats: Float32Array = channelsFirst
        ? transposeFrames(embed.data as Float32Array, width, embed.dims[2]!)
        : Float32Array.from(embed.data as Float32Array);
      const frames50 = channelsFirst ? embed.dims[2]! : embed.dims[1]!;
      lap('features');
      const feats0 = usesPitch && params.protect < 0.5 ? feats.slice() : null;
      if (index && params.indexRate > 0) feats = retrieve(index, feats, frames50, width, params.indexRate);
      lap('index');
      const pitchLen = pitchTo - pitchFrom;
      const p = Math.min(Math.floor(segment.length / WINDOW), frames50 * 2, pitchLen);
      if (p <= 0) return new Float32Array(0);
      // nearest-neighbour ×2 to 100 frames/s (F.interpolate scale_factor=2), then protect
      const phone = new Float32Array(p * width);
      const pitchf = f0.subarray(pitchFrom, pitchFrom + p);
      for (let t = 0; t < p; t++) {
        const src = (t >> 1) * width;
        if (feats0) {
          const w = pitchf[t]! > 0 ? 1 : params.protect;
          for (let k = 0; k < width; k++) phone[t * width + k] = feats[src + k]! * w + feats0[src + k]! * (1 - w);
        } else {
          phone.set(feats.subarray(src, src + width), t * width);
        }
      }
      const rnd = new Float32Array(192 * p);
      for (let i = 0; i < rnd.length; i++) rnd[i] = LATENT_NOISE_SCALE * normal();
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
        phone: new ort.Tensor('float32', phone, [1, p, width]),
        phone_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(p)]), [1]),
        ds: new ort.Tensor('int64', BigInt64Array.from([BigInt(params.sid)]), [1]),
        rnd: new ort.Tensor('float32', rnd, [1, 192, p]),
      };
      if (usesPitch) {
        feeds['pitch'] = new ort.Tensor('int64', coarse.slice(pitchFrom, pitchFrom + p), [1, p]);
        feeds['pitchf'] = new ort.Tensor('float32', Float32Array.from(pitchf), [1, p]);
      }
      const out = await synth.run(feeds);
      const wave = out['audio']!.data as Float32Array;
      lap('synthesis');
      if (wave.length !== p * hop) {
        throw new UserError(
          `${path.basename(params.modelPath)} wrote ${wave.length / p} samples per frame, not ${hop}: its sample rate is not ${tgtSr} (fix --sr or its sidecar).`,
          'wrong-sample-rate',
        );
      }
      return wave.slice(tPadTgt, Math.max(tPadTgt, wave.length - tPadTgt));
    };
    for (const cut of cuts) {
      const t = Math.floor(cut / WINDOW) * WINDOW;
      pieces.push(await convertChunk(s, t + tPad2 + WINDOW, s / WINDOW, Math.floor((t + tPad2) / WINDOW)));
      s = t;
      last = t;
      progress('synthesis', pieces.length, total);
      await checkCancel();
    }
    const tailFrom = last ?? 0;
    pieces.push(await convertChunk(tailFrom, padded.length, tailFrom / WINDOW, pLen));
    progress('synthesis', total, total);

    // post: join, pad to the input's exact duration, loudness mix, optional resample, int16
    const expected = Math.round((audio.length * tgtSr) / SR);
    let joined: Float32Array = new Float32Array(expected);
    let at = 0;
    for (const piece of pieces) {
      joined.set(piece.subarray(0, Math.max(0, Math.min(piece.length, expected - at))), at);
      at += piece.length;
    }
    pieces.length = 0;
    if (params.rmsMixRate !== 1) mixRms(audio, SR, joined, tgtSr, params.rmsMixRate);
    let outRate = tgtSr;
    if (params.resampleSr >= 16000 && params.resampleSr !== tgtSr) {
      joined = resample(joined, tgtSr, params.resampleSr);
      outRate = params.resampleSr;
    }
    const pcm = toInt16(joined);
    fs.writeFileSync(
      params.outputPath,
      Buffer.concat([wavHeader16(pcm.length, outRate), Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)]),
    );
    lap('post');
    progress('post');
    return {
      outputPath: path.resolve(params.outputPath),
      sampleRate: outRate,
      inputSeconds,
      outputSamples: pcm.length,
      chunks: total,
      costMs: Math.round(performance.now() - started),
      stages,
    };
  }
}

/** RVC's final scaling: peak ≤ 0.99, × 32768, truncated (clamped where RVC would wrap). */
export function toInt16(x: Float32Array): Int16Array {
  let peak = 0;
  for (const v of x) {
    if (!Number.isFinite(v)) throw new Error('the synthesizer produced NaN or infinite samples');
    peak = Math.max(peak, Math.abs(v));
  }
  let scale = 32768;
  if (peak / 0.99 > 1) scale /= peak / 0.99;
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.trunc(x[i]! * scale)));
  return out;
}

/**
 * Index retrieval as RVC's vc(): k=8 neighbours from faiss's IVF search, weights 1/d² normalised,
 * `feats = retrieved·rate + feats·(1−rate)`. A query at distance 0 (a training frame itself) would
 * make RVC's weights inf/inf = NaN; it takes the whole weight here instead.
 */
export function retrieve(cached: CachedIndex, feats: Float32Array, frames: number, width: number, rate: number): Float32Array {
  const { ids, distances } = searchIvfFlat(cached.index, feats.subarray(0, frames * width), 8);
  const out = new Float32Array(frames * width);
  const mixed = new Float64Array(width);
  for (let f = 0; f < frames; f++) {
    const rowIds = ids[f]!;
    const rowD = distances[f]!;
    const weights = rowD.map((d, j) => (rowIds[j]! < 0 ? 0 : d === 0 ? Infinity : 1 / (d * d)));
    const exact = weights.some((w) => w === Infinity);
    const sum = exact ? weights.filter((w) => w === Infinity).length : weights.reduce((a, b) => a + b, 0);
    mixed.fill(0);
    if (sum > 0) {
      for (let j = 0; j < rowIds.length; j++) {
        const w = exact ? (weights[j] === Infinity ? 1 / sum : 0) : weights[j]! / sum;
        if (w === 0) continue;
        const base = rowIds[j]! * width;
        for (let k = 0; k < width; k++) mixed[k]! += w * cached.vectors[base + k]!;
      }
    }
    for (let k = 0; k < width; k++) {
      const own = feats[f * width + k]!;
      out[f * width + k] = sum > 0 ? mixed[k]! * rate + own * (1 - rate) : own;
    }
  }
  return out;
}

/** [C,T] row-major → [T,C] row-major. */
function transposeFrames(data: Float32Array, channels: number, frames: number): Float32Array {
  const out = new Float32Array(channels * frames);
  for (let c = 0; c < channels; c++) for (let t = 0; t < frames; t++) out[t * channels + c] = data[c * frames + t]!;
  return out;
}
