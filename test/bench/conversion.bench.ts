// Offline inference on a 60 s input: real-time factor per stage, the pipeline's overhead over the
// synthesizer's own time (same run, same chunking), and peak memory. The fixture models are shrunk
// RVC models (alto-demo: hidden 8, upsample 16 channels), so absolute RTF is far below a full-width
// model's; the stage split and overhead are what they show. For speed, point
// RVC_STUDIO_BENCH_FULL_MODEL at a full-width RVC v2 40k synthesizer exported by RVC's own code
// (about 110 MB; never committed — README, Benchmarks, says how to make one).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './benchResult.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const fixtures = path.resolve(repoRoot, '../shared/fixtures/rvc-real-a');
const SECONDS = 60;

// Runs in a child process so its peak RSS is the conversion's alone.
const CHILD = `
import { VoiceConverter } from ${JSON.stringify(path.join(repoRoot, 'src/core/inference/voiceConverter.ts'))};
import { openSession, onnxRuntime } from ${JSON.stringify(path.join(repoRoot, 'src/core/inference/onnxRuntime.ts'))};
import { floatToInt16, writeWav16 } from ${JSON.stringify(path.join(repoRoot, 'src/core/inference/wavFile.ts'))};
import { CONVERT_DEFAULTS } from ${JSON.stringify(path.join(repoRoot, 'src/protocol/inferenceWorkerProtocol.ts'))};
const [dir, fixtures, seconds, threads, modelPath, modelSampleRate] = process.argv.slice(2);
const rate = 44100, n = Number(seconds) * rate, x = new Float32Array(n);
let phase = 0;
for (let i = 0; i < n; i++) { const t = i / rate; phase += 2 * Math.PI * (150 + 40 * Math.sin(2 * Math.PI * 0.7 * t)) / rate;
  x[i] = (Math.floor(t * 2) % 4 === 3 ? 0.002 : 0.4) * (Math.sin(phase) + 0.3 * Math.sin(2 * phase)); }
const input = dir + '/in.wav';
writeWav16(input, floatToInt16(x), rate);
const warmInput = dir + '/warm-in.wav';
writeWav16(warmInput, floatToInt16(x.subarray(0, 4 * rate)), rate);
const params = { ...CONVERT_DEFAULTS, modelPath, contentVecPath: fixtures + '/onnx/aux/vec-768-layer-12.standin.onnx',
  indexPath: fixtures + '/logs/alto-demo/added_IVF37_Flat_nprobe_1_alto-demo_v2.index', inputPath: input, outputPath: dir + '/out.wav',
  modelSampleRate: Number(modelSampleRate), seed: 1, threads: Number(threads) };
const converter = new VoiceConverter();
await converter.convert({ ...params, inputPath: warmInput, outputPath: dir + '/warm.wav' }); // load models, JIT
const result = await converter.convert(params);
const maxRssMb = process.resourceUsage().maxRSS / 1024; // before the baseline's own session
await converter.dispose();
// The synthesizer alone on the same frames in the same chunks, with prepared inputs.
const ort = onnxRuntime();
const synth = await openSession(params.modelPath, { threads: Number(threads) });
const framesPerChunk = Math.ceil((Number(seconds) * 100 + result.chunks * 200) / result.chunks);
const t = framesPerChunk;
const feeds = { phone: new ort.Tensor('float32', new Float32Array(t * 768).map(() => Math.random() - 0.5), [1, t, 768]),
  phone_lengths: new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), [1]), pitch: new ort.Tensor('int64', new BigInt64Array(t).fill(60n), [1, t]),
  pitchf: new ort.Tensor('float32', new Float32Array(t).fill(220), [1, t]), ds: new ort.Tensor('int64', BigInt64Array.from([0n]), [1]),
  rnd: new ort.Tensor('float32', new Float32Array(192 * t).map(() => Math.random() - 0.5), [1, 192, t]) };
await synth.run(feeds);
const start = performance.now();
for (let c = 0; c < result.chunks; c++) await synth.run(feeds);
const synthOnlyMs = performance.now() - start;
console.log(JSON.stringify({ result, synthOnlyMs, maxRssMb }));
`;

export async function run(): Promise<BenchResult[]> {
  if (!fs.existsSync(path.join(fixtures, 'onnx/alto-demo.onnx'))) {
    console.warn('SKIP: ../shared/fixtures not found — the inference benchmark needs rvc-real-a.');
    return [];
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-studio-bench-infer-'));
  try {
    const script = path.join(dir, 'child.ts');
    fs.writeFileSync(script, CHILD);
    const models = [{ label: 'shrunk fixture alto-demo', path: path.join(fixtures, 'onnx/alto-demo.onnx'), sampleRate: 40000 }];
    const fullWidth = process.env['RVC_STUDIO_BENCH_FULL_MODEL'];
    if (fullWidth)
      models.push({
        label: `full-width ${path.basename(fullWidth)}`,
        path: path.resolve(fullWidth),
        sampleRate: Number(process.env['RVC_STUDIO_BENCH_FULL_MODEL_SR'] ?? 40000),
      });
    else
      console.warn(
        'SKIP full-width model: set RVC_STUDIO_BENCH_FULL_MODEL to an RVC v2 40k synthesizer exported by RVC (README, Benchmarks).',
      );
    const results: BenchResult[] = [];
    const threads = 2;
    for (const model of models) {
      const out = execFileSync(
        process.execPath,
        [script, dir, fixtures, String(SECONDS), String(threads), model.path, String(model.sampleRate)],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      const { result, synthOnlyMs, maxRssMb } = JSON.parse(out.trim().split('\n').pop()!) as {
        result: { costMs: number; stages: Record<string, number>; chunks: number };
        synthOnlyMs: number;
        maxRssMb: number;
      };
      const audioMs = SECONDS * 1000;
      results.push({
        name: `[${model.label}] RTF, whole pipeline, ${SECONDS} s input, ${threads} threads (${result.chunks} chunks)`,
        value: result.costMs / audioMs,
        unit: 'x real time',
      });
      for (const [stage, ms] of Object.entries(result.stages))
        results.push({ name: `  RTF stage ${stage}`, value: ms / audioMs, unit: 'x real time' });
      results.push({ name: '  RTF of the synthesizer alone', value: synthOnlyMs / audioMs, unit: 'x real time' });
      results.push({
        name: '  pipeline vs synthesizer alone (same frames and chunks)',
        value: result.costMs,
        unit: 'ms',
        baseline: { name: 'synthesizer session.run only', value: synthOnlyMs },
        ratio: synthOnlyMs / result.costMs,
      });
      results.push({ name: '  pipeline overhead over the synthesizer', value: result.costMs / synthOnlyMs, unit: 'x' });
      results.push({ name: '  peak RSS of the converting process', value: maxRssMb, unit: 'MB' });
    }
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
