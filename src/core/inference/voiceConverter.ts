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
import { msg, UserError } from '../util/errors.ts';
import { decodeTo16kMono } from './audio16k.ts';
import { readIvfFlatIndex } from './faissIndex.ts';
import { readF0Curve } from './f0Curve.ts';
import { checkRawF0, shapeF0, trackF0 } from './f0Stage.ts';
import { rvcHighPass } from './highPass.ts';
import { readNpyFloat64 } from './npyFile.ts';
import { checkSynthesizer, describeSession, requireFile } from './onnxModel.ts';
import { onnxRuntime, openSession, type OrtSession } from './onnxRuntime.ts';
import { buildPhone, contentVecFeatures, retrieve, type RetrievalIndex } from './phoneStage.ts';
import { resample } from './resampler.ts';
import { checkRmvpe } from './rmvpePitch.ts';
import { mixRms } from './rmsMix.ts';
import { ANALYSIS_RATE, FRAME_HOP } from './analysisGrid.ts';
import { RVC_CHUNK_CONSTANTS, chunkSpans, quietCutPoints, reflectPad, synthFrames, type ChunkSpan } from './rvcChunking.ts';
import { NO_RECORDER, stageDumper, type StageRecorder } from './stageDump.ts';
import { limitPeak, toInt16 } from './rvcLevels.ts';
import { wavHeader16 } from './wavFile.ts';

/**
 * RVC 20240604's conversion (infer/modules/vc/pipeline.py, modules.py) on onnxruntime-node's CPU
 * provider, so with RVC's CPU chunk constants: 16 kHz mono as ffmpeg gives it → peak ≤ 0.95 →
 * 48 Hz high-pass (filtfilt) → 1 s reflect pad → f0 over the whole padded input → per chunk:
 * ContentVec, index blend, ×2, protect, synthesis, trim → join → rms mix → resample → int16.
 * The stages live in their own modules (rvcChunking, f0Stage, phoneStage, rmsMix); this class
 * holds the loaded models between conversions and runs the stages in order.
 */
const CHUNKS = RVC_CHUNK_CONSTANTS.cpu;

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

interface CachedIndex extends RetrievalIndex {
  key: string;
}

function fileKey(file: string, extra = ''): string {
  const stat = fs.statSync(file);
  return `${path.resolve(file)}:${stat.size}:${stat.mtimeMs}:${extra}`;
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
    if (problem) throw new UserError(msg`${names[key]} ${problem} (got ${p[key]}).`, 'usage');
  }
  if (p.f0Method === 'rmvpe' && !p.rmvpePath && !p.f0RawPath)
    throw new UserError(msg`f0 method rmvpe needs an RMVPE model: pass --rmvpe path/to/rmvpe.onnx, or use --f0-method yin.`, 'usage');
  if (p.f0Method === 'harvest' && !p.f0RawPath)
    throw new UserError(
      msg`harvest (WORLD) is not built in yet: use --f0-method rmvpe, or pass the harvest output RVC computed with --f0-raw F.npy.`,
      'f0-method-unavailable',
    );
}

/** Times, progress and cancellation of one conversion. */
class ConversionClock {
  readonly started = performance.now();
  readonly stages: Record<ConvertStage, number> = {
    export: 0,
    load: 0,
    decode: 0,
    resample: 0,
    features: 0,
    f0: 0,
    index: 0,
    synthesis: 0,
    post: 0,
  };
  private mark = performance.now();
  private readonly hooks: ConvertHooks;
  constructor(hooks: ConvertHooks) {
    this.hooks = hooks;
  }

  lap(stage: ConvertStage): void {
    const now = performance.now();
    this.stages[stage] += now - this.mark;
    this.mark = now;
  }

  progress(stage: ConvertStage, done = 1, total = 1): void {
    this.hooks.onProgress?.({ stage, done, total });
  }

  /** Yields to the event loop first, so a cancel message posted meanwhile has been received. */
  async checkCancel(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    if (this.hooks.isCancelled?.()) throw new ConversionCancelled('cancelled');
  }
}

interface LoadedModels {
  synth: OrtSession;
  sampleRate: number;
  width: number;
  usesPitch: boolean;
  vec: OrtSession;
  rmvpe: OrtSession | null;
  index: CachedIndex | null;
}

/** What every chunk of one conversion shares. */
interface ChunkContext {
  params: ConvertParams;
  models: LoadedModels;
  padded: Float32Array;
  pitchf: Float32Array;
  coarse: BigInt64Array;
  normal: () => number;
  recorder: StageRecorder;
  clock: ConversionClock;
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
          throw new UserError(msg`${file}: vector id ${id} is outside 0..${index.ntotal - 1}; rebuild the index with RVC.`, 'bad-index');
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
          msg`The sample rate of ${path.basename(params.modelPath)} is unknown: pass --sr 32k|40k|48k.`,
          'unknown-sample-rate',
        );
      return { file: params.modelPath, sampleRate: params.modelSampleRate };
    }
    const cacheDir = params.exportDir ?? exportsDir(path.dirname(path.resolve(params.outputPath)));
    const exported = await ensureExported(cacheDir, params.modelPath, { onProgress, noiseFree: params.noNoise ?? false });
    return { file: exported.file, sampleRate: params.modelSampleRate || exported.sidecar.sampleRate };
  }

  async dispose(): Promise<void> {
    for (const { session } of this.sessions.values()) await session.release();
    this.sessions.clear();
    this.cachedIndex = null;
  }

  /** Every model and the index first, so a wrong file fails before any audio work. */
  private async loadModels(params: ConvertParams, clock: ConversionClock): Promise<LoadedModels> {
    requireFile(params.modelPath, 'Model');
    if (!params.contentVecPath)
      throw new UserError(
        msg`No ContentVec model given: pass --contentvec path/to/vec-768-layer-12.onnx (or vec-256-layer-9.onnx for v1 models).`,
        'contentvec-missing',
      );
    requireFile(params.contentVecPath, 'ContentVec');
    const synthesizer = await this.synthesizerFile(params, (done, total) => clock.progress('export', done, total));
    clock.lap('export');
    const synth = await this.session('synthesizer', synthesizer.file, params.threads);
    const description = describeSession(params.modelPath, synth);
    const width = checkSynthesizer(description);
    const usesPitch = description.f0 !== false;
    const vec = await this.session('contentvec', params.contentVecPath, params.threads);
    const vecWidth = describeSession(params.contentVecPath, vec).outputs[0]?.shape[2];
    if (vec.inputNames.length !== 1 || (typeof vecWidth === 'number' && vecWidth !== width)) {
      throw new UserError(
        msg`${path.basename(params.contentVecPath)} gives ${String(vecWidth)}-wide features but ${path.basename(params.modelPath)} is a ${width === 768 ? 'v2' : 'v1'} model that needs ${width}-wide ones (use vec-${width === 768 ? '768-layer-12' : '256-layer-9'}.onnx).`,
        'contentvec-mismatch',
      );
    }
    let rmvpe: OrtSession | null = null;
    if (usesPitch && params.f0Method === 'rmvpe' && !params.f0RawPath) {
      requireFile(params.rmvpePath!, 'RMVPE');
      rmvpe = await this.session('rmvpe', params.rmvpePath!, params.threads);
      checkRmvpe(path.basename(params.rmvpePath!), rmvpe);
    }
    let index: CachedIndex | null = null;
    if (params.indexPath && params.indexRate !== 0) {
      requireFile(params.indexPath, 'Index');
      index = this.loadIndex(params.indexPath);
      if (index.index.d !== width)
        throw new UserError(
          msg`${path.basename(params.indexPath)} holds ${index.index.d}-wide features but the model needs ${width}.`,
          'index-mismatch',
        );
    }
    const outDir = path.dirname(path.resolve(params.outputPath));
    if (!fs.existsSync(outDir)) throw new UserError(msg`Output folder ${outDir} does not exist.`, 'not-found');
    clock.lap('load');
    clock.progress('load');
    return { synth, sampleRate: synthesizer.sampleRate, width, usesPitch, vec, rmvpe, index };
  }

  async convert(params: ConvertParams, hooks: ConvertHooks = {}): Promise<ConvertResult> {
    const clock = new ConversionClock(hooks);
    checkParams(params);
    // Read before any model work, so a bad curve file is refused at once.
    const curve = params.f0CurvePath ? readF0Curve(params.f0CurvePath) : null;
    const models = await this.loadModels(params, clock);
    const recorder = params.dumpStagesDir ? stageDumper(params.dumpStagesDir) : NO_RECORDER;

    const decoded = decodeTo16kMono(params.inputPath, { maxSeconds: params.maxSeconds });
    clock.lap('decode');
    clock.progress('decode');
    await clock.checkCancel();

    // resample stage: 16 kHz audio → peak limit → high-pass (float64 from here) → reflect pad
    const audio16k = limitPeak(decoded.audio);
    recorder.record('audio16k', audio16k);
    if (audio16k.length < 2 * FRAME_HOP)
      throw new UserError(
        msg`${params.inputPath} is too short to convert (${(decoded.seconds * 1000).toFixed(0)} ms; at least 20 ms).`,
        'audio-too-short',
      );
    const audio = rvcHighPass(audio16k);
    const tPad = ANALYSIS_RATE * CHUNKS.xPad;
    const padded = Float32Array.from(reflectPad(audio, tPad, tPad));
    recorder.record('audio_pad', padded);
    const pLen = Math.floor(padded.length / FRAME_HOP);
    const spans = chunkSpans(quietCutPoints(audio, CHUNKS), padded.length, CHUNKS);
    clock.lap('resample');
    clock.progress('resample');
    await clock.checkCancel();

    const { pitchf, coarse } = await this.pitch(params, models, padded, pLen, curve, recorder);
    clock.lap('f0');
    clock.progress('f0');
    await clock.checkCancel();

    const context: ChunkContext = { params, models, padded, pitchf, coarse, normal: normalSource(params.seed), recorder, clock };
    const pieces: Float32Array[] = [];
    for (const [i, span] of spans.entries()) {
      pieces.push(await this.convertChunk(context, span, i));
      clock.progress('synthesis', i + 1, spans.length);
      if (i + 1 < spans.length) await clock.checkCancel();
    }
    const written = this.finish(params, models.sampleRate, audio, pieces, recorder);
    clock.lap('post');
    clock.progress('post');
    return {
      outputPath: path.resolve(params.outputPath),
      sampleRate: written.sampleRate,
      inputSeconds: decoded.seconds,
      outputSamples: written.samples,
      chunks: spans.length,
      costMs: Math.round(performance.now() - clock.started),
      stages: clock.stages,
    };
  }

  /**
   * pitch and pitchf for the whole padded input (p_len frames). A no-pitch model takes none (RVC
   * runs it without f0 and without protect).
   */
  private async pitch(
    params: ConvertParams,
    models: LoadedModels,
    padded: Float32Array,
    pLen: number,
    curve: ReturnType<typeof readF0Curve> | null,
    recorder: StageRecorder,
  ): Promise<{ pitchf: Float32Array; coarse: BigInt64Array }> {
    if (!models.usesPitch) return { pitchf: new Float32Array(pLen), coarse: new BigInt64Array(pLen) };
    const raw = params.f0RawPath
      ? checkRawF0(readNpyFloat64(params.f0RawPath).data, pLen, params.f0RawPath)
      : await trackF0(
          params.f0Method,
          padded,
          pLen,
          {
            rmvpe: models.rmvpe ? { session: models.rmvpe, name: path.basename(params.rmvpePath!) } : null,
          },
          recorder,
        );
    recorder.record('f0_raw_before_key', raw);
    const shaped = shapeF0(
      raw,
      { method: params.f0Method, transpose: params.transpose, filterRadius: params.filterRadius, curve, xPad: CHUNKS.xPad },
      recorder,
    );
    // pipeline.py keeps [:p_len]; pitchf is the float64 f0 cast to float32.
    const pitchf = Float32Array.from(shaped.f0.subarray(0, pLen));
    const coarse = BigInt64Array.from(shaped.coarse.subarray(0, pLen), (v) => BigInt(v));
    return { pitchf, coarse };
  }

  /** Pipeline.vc for one chunk, trimmed by the pad on both sides: t_pad_tgt samples each. */
  private async convertChunk(ctx: ChunkContext, span: ChunkSpan, i: number): Promise<Float32Array> {
    const { params, models, recorder, clock } = ctx;
    const { width, usesPitch } = models;
    const segment = ctx.padded.subarray(span.audioStart, span.audioEnd);
    const feats = await contentVecFeatures(models.vec, segment, width);
    recorder.record(`chunk${i}_feats_before_index`, feats.data, [1, feats.frames, width]);
    clock.lap('features');
    let blended = feats.data;
    if (models.index) {
      const retrieval = retrieve(models.index, feats, width, params.indexRate);
      blended = retrieval.blended;
      recorder.record(`chunk${i}_index_I`, retrieval.ids, [feats.frames, 8]);
      recorder.record(`chunk${i}_index_D`, retrieval.distances, [feats.frames, 8]);
    }
    clock.lap('index');
    const frames = Math.min(synthFrames(segment.length, feats.frames), span.pitchEnd - span.pitchStart);
    if (frames <= 0) return new Float32Array(0);
    const protect = usesPitch && params.protect < 0.5;
    const pitchf = ctx.pitchf.subarray(span.pitchStart, span.pitchStart + frames);
    const phone = buildPhone(blended, protect ? feats.data : null, protect ? pitchf : null, params.protect, frames, width);
    recorder.record(`chunk${i}_phone`, phone, [1, frames, width]);
    const wave = await this.synthesize(ctx, phone, frames, span.pitchStart, i);
    clock.lap('synthesis');
    const tPadTgt = models.sampleRate * CHUNKS.xPad;
    const trimmed = wave.slice(tPadTgt, Math.max(tPadTgt, wave.length - tPadTgt));
    recorder.record(`chunk${i}_synth`, trimmed);
    return trimmed;
  }

  private async synthesize(ctx: ChunkContext, phone: Float32Array, frames: number, pitchStart: number, i: number): Promise<Float32Array> {
    const { params, models, recorder } = ctx;
    const ort = onnxRuntime();
    const rnd = new Float32Array(192 * frames);
    if (!params.noNoise) for (let i = 0; i < rnd.length; i++) rnd[i] = LATENT_NOISE_SCALE * ctx.normal();
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
      phone: new ort.Tensor('float32', phone, [1, frames, models.width]),
      phone_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(frames)]), [1]),
      ds: new ort.Tensor('int64', BigInt64Array.from([BigInt(params.sid)]), [1]),
      rnd: new ort.Tensor('float32', rnd, [1, 192, frames]),
    };
    if (models.usesPitch) {
      const pitch = ctx.coarse.slice(pitchStart, pitchStart + frames);
      const pitchf = ctx.pitchf.slice(pitchStart, pitchStart + frames);
      recorder.record(`chunk${i}_pitch`, pitch, [1, frames]);
      recorder.record(`chunk${i}_pitchf`, pitchf, [1, frames]);
      feeds['pitch'] = new ort.Tensor('int64', pitch, [1, frames]);
      feeds['pitchf'] = new ort.Tensor('float32', pitchf, [1, frames]);
    }
    const out = await models.synth.run(feeds);
    const wave = out['audio']!.data as Float32Array;
    const hop = models.sampleRate / 100;
    if (wave.length !== frames * hop) {
      throw new UserError(
        msg`${path.basename(params.modelPath)} wrote ${wave.length / frames} samples per frame, not ${hop}: its sample rate is not ${models.sampleRate} (fix --sr or its sidecar).`,
        'wrong-sample-rate',
      );
    }
    return wave;
  }

  /** Join, rms mix (on the high-passed 16 kHz audio), optional resample, int16 WAV. */
  private finish(
    params: ConvertParams,
    tgtSr: number,
    audio: Float64Array,
    pieces: Float32Array[],
    recorder: StageRecorder,
  ): { sampleRate: number; samples: number } {
    let joined: Float32Array = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const piece of pieces) {
      joined.set(piece, at);
      at += piece.length;
    }
    pieces.length = 0;
    if (joined.length === 0)
      throw new UserError(msg`${params.inputPath} is too short to convert: RVC's pads leave no output for it.`, 'audio-too-short');
    recorder.record('synth_concat', joined);
    if (params.rmsMixRate !== 1) mixRms(audio, ANALYSIS_RATE, joined, tgtSr, params.rmsMixRate);
    let outRate = tgtSr;
    if (params.resampleSr >= 16000 && params.resampleSr !== tgtSr) {
      joined = resample(joined, tgtSr, params.resampleSr);
      outRate = params.resampleSr;
    }
    recorder.record('out', joined);
    const pcm = toInt16(joined);
    fs.writeFileSync(
      params.outputPath,
      Buffer.concat([wavHeader16(pcm.length, outRate), Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)]),
    );
    return { sampleRate: outRate, samples: pcm.length };
  }
}
