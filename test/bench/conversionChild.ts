// One process of `npm run bench -- conversion` (conversion.bench.ts starts it): its peak RSS is
// the conversion's alone. `export`: a cold process converts a short input with a `.pth` not yet
// exported, so its export stage is what a first use costs. `measure`: warms every stage on a short
// input (JIT, file cache); converts the 60 s input with a fresh VoiceConverter (loading every
// model), then again with the models held, per f0 tracker; then runs the synthesizer alone on the
// same calls (the frames of each chunk as the conversion cut them, from rvcChunking's own
// functions on the same audio; prepared inputs), first in a fresh session, then warmed.
import { ensureExported, isPthModel } from '../../src/core/models/exportCache.ts';
import { decodeTo16kMono } from '../../src/core/inference/audio16k.ts';
import { rvcHighPass } from '../../src/core/inference/highPass.ts';
import { onnxRuntime, openSession, type OrtTensor } from '../../src/core/inference/onnxRuntime.ts';
import { coarsePitch } from '../../src/core/inference/pitch.ts';
import { ANALYSIS_RATE } from '../../src/core/inference/analysisGrid.ts';
import { RVC_CHUNK_CONSTANTS, chunkSpans, quietCutPoints, synthFrames } from '../../src/core/inference/rvcChunking.ts';
import { limitPeak } from '../../src/core/inference/rvcLevels.ts';
import { VoiceConverter, normalSource } from '../../src/core/inference/voiceConverter.ts';
import { CONVERT_DEFAULTS, type ConvertParams, type ConvertResult, type F0Estimator } from '../../src/protocol/inferenceWorkerProtocol.ts';

export interface ChildConfig {
  modelPath: string;
  /** 0 for a `.pth` (its own rate). */
  modelSampleRate: number;
  exportDir: string;
  contentVecPath: string;
  indexPath: string | null;
  rmvpePath: string;
  /** The first is measured fresh (peak RSS) and held; the others held only, on the same chunks. */
  f0Methods: F0Estimator[];
  threads: number;
  inputPath: string;
  warmInputPath: string;
  outDir: string;
}

export interface ExportRun {
  result: ConvertResult;
  maxRssMb: number;
}

export interface SynthTimes {
  /** The calls' total: of a fresh session's first pass, or the median pass of a warmed session. */
  ms: number;
  callMs: number[];
}

export interface MeasureRun {
  /** The first 60 s conversion of a fresh VoiceConverter (f0Methods[0]): its load stage opens every model. */
  first: ConvertResult;
  /** Conversions with the models held (a panel's second file): the median of STEADY_RUNS per tracker. */
  steady: { f0Method: F0Estimator; result: ConvertResult; runs: number }[];
  /** Peak RSS after the first conversion, before any other conversion and the synthesizer's own session. */
  maxRssMb: number;
  /** Frames of each synthesizer call, as the conversion made them. */
  frames: number[];
  /** The synthesizer alone on those calls: a fresh session's first pass, and that session warmed. */
  synthFirst: SynthTimes;
  synthSteady: SynthTimes & { runs: number };
}

/** Timed repeats of a steady conversion and of the synthesizer alone; the median is reported (a shared 2-core machine is noisy). */
const STEADY_RUNS = 3;

const median = <T>(items: T[], key: (item: T) => number): T => [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;

/** HuBERT's (and ContentVec's) feature extractor: 7 convolutions, (kernel, stride), 320 samples per frame. */
const HUBERT_CONVS: readonly (readonly [number, number])[] = [
  [10, 5],
  [3, 2],
  [3, 2],
  [3, 2],
  [3, 2],
  [2, 2],
  [2, 2],
];

function contentVecFrames(samples: number): number {
  let n = samples;
  for (const [kernel, stride] of HUBERT_CONVS) n = Math.floor((n - kernel) / stride) + 1;
  return Math.max(0, n);
}

const CHUNKS = RVC_CHUNK_CONSTANTS.cpu;

/** What VoiceConverter.convert does before f0 that decides the chunks, on the same file. */
function chunkFrames(inputPath: string): number[] {
  const audio = rvcHighPass(limitPeak(decodeTo16kMono(inputPath, { maxSeconds: CONVERT_DEFAULTS.maxSeconds }).audio));
  const paddedLength = audio.length + 2 * ANALYSIS_RATE * CHUNKS.xPad;
  return chunkSpans(quietCutPoints(audio, CHUNKS), paddedLength, CHUNKS).map((span) => {
    const samples = span.audioEnd - span.audioStart;
    return Math.max(0, Math.min(synthFrames(samples, contentVecFrames(samples)), span.pitchEnd - span.pitchStart));
  });
}

function paramsOf(config: ChildConfig, f0Method: F0Estimator, inputPath: string, outputName: string): ConvertParams {
  return {
    ...CONVERT_DEFAULTS,
    modelPath: config.modelPath,
    modelSampleRate: config.modelSampleRate,
    exportDir: config.exportDir,
    contentVecPath: config.contentVecPath,
    indexPath: config.indexPath,
    rmvpePath: config.rmvpePath,
    f0Method,
    inputPath,
    outputPath: `${config.outDir}/${outputName}`,
    seed: 1,
    threads: config.threads,
  };
}

async function exportRun(config: ChildConfig): Promise<ExportRun> {
  const converter = new VoiceConverter();
  const result = await converter.convert(paramsOf(config, config.f0Methods[0]!, config.warmInputPath, 'export-out.wav'));
  await converter.dispose();
  return { result, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

async function synthesizerFile(config: ChildConfig): Promise<{ file: string; sampleRate: number }> {
  if (!isPthModel(config.modelPath)) return { file: config.modelPath, sampleRate: config.modelSampleRate };
  const exported = await ensureExported(config.exportDir, config.modelPath); // exported by the conversions: a cache hit
  return { file: exported.file, sampleRate: exported.sidecar.sampleRate };
}

async function measureRun(config: ChildConfig): Promise<MeasureRun> {
  const [main, ...others] = config.f0Methods;
  if (!main) throw new Error('no f0 method to measure');
  const warm = new VoiceConverter();
  for (const method of config.f0Methods) await warm.convert(paramsOf(config, method, config.warmInputPath, `warm-${method}.wav`));
  await warm.dispose();

  // A fresh converter, so its load stage opens every session as a first conversion does.
  const converter = new VoiceConverter();
  const convert = (f0Method: F0Estimator): Promise<ConvertResult> =>
    converter.convert(paramsOf(config, f0Method, config.inputPath, `out-${f0Method}.wav`));
  const first = await convert(main);
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  const steady: MeasureRun['steady'] = [];
  for (const f0Method of [main, ...others]) {
    const runs: ConvertResult[] = [];
    for (let i = 0; i < (f0Method === main ? STEADY_RUNS : 1); i++) runs.push(await convert(f0Method));
    steady.push({ f0Method, result: median(runs, (r) => r.costMs), runs: runs.length });
  }
  await converter.dispose();

  const frames = chunkFrames(config.inputPath);
  const { file, sampleRate } = await synthesizerFile(config);
  const trim = 2 * sampleRate * CHUNKS.xPad;
  const expected = frames.reduce((n, t) => n + Math.max(0, (t * sampleRate) / 100 - trim), 0);
  for (const result of [first, ...steady.map((s) => s.result)])
    if (result.chunks !== frames.length || result.outputSamples !== expected)
      throw new Error(
        `the conversion made ${result.chunks} calls and ${result.outputSamples} samples, the baseline's frames [${frames.join(', ')}] give ${frames.length} calls and ${expected}: the baseline would not run the same calls`,
      );

  const ort = onnxRuntime();
  const normal = normalSource(1);
  const random = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => scale * normal());
  const feeds = frames
    .filter((t) => t > 0)
    .map((t): Record<string, OrtTensor> => ({
      phone: new ort.Tensor('float32', random(t * 768, 1), [1, t, 768]),
      phone_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), [1]),
      pitch: new ort.Tensor('int64', new BigInt64Array(t).fill(BigInt(coarsePitch(220))), [1, t]),
      pitchf: new ort.Tensor('float32', new Float32Array(t).fill(220), [1, t]),
      ds: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]),
      rnd: new ort.Tensor('float32', random(192 * t, 0.66666), [1, 192, t]),
    }));
  const synth = await openSession(file, { threads: config.threads });
  const inputs = feeds.map((feed) => Object.fromEntries(Object.entries(feed).filter(([name]) => synth.inputNames.includes(name))));
  const pass = async (): Promise<SynthTimes> => {
    const callMs: number[] = [];
    for (const input of inputs) {
      const start = performance.now();
      await synth.run(input);
      callMs.push(performance.now() - start);
    }
    return { ms: callMs.reduce((a, b) => a + b, 0), callMs };
  };
  // The first pass on a fresh session, as the first conversion's; then warmed, as the held converter's.
  const synthFirst = await pass();
  const passes: SynthTimes[] = [];
  for (let i = 0; i < STEADY_RUNS; i++) passes.push(await pass());
  await synth.release();
  return { first, steady, maxRssMb, frames, synthFirst, synthSteady: { ...median(passes, (p) => p.ms), runs: passes.length } };
}

const [mode, configJson] = process.argv.slice(2);
const config = JSON.parse(configJson!) as ChildConfig;
const out = mode === 'export' ? await exportRun(config) : await measureRun(config);
console.log(JSON.stringify(out));
