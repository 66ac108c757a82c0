// `.pth` → ONNX export: time and peak memory of an export against reading the same weights alone
// (what any converter must do), and the conversion speed of our export against RVC's own export of
// the same model, in the same run. Without settings it measures the shrunk fixture model
// (rvc-real-a alto-demo.pth and RVC's alto-demo.onnx). For full width, point
// RVC_STUDIO_BENCH_FULL_PTH at a full-width RVC v2 40k small model and RVC_STUDIO_BENCH_FULL_MODEL at
// RVC's export of that same file (README, Benchmarks, says how to make both; never committed).
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
const THREADS = 2;

const src = (file: string): string => JSON.stringify(path.join(repoRoot, 'src', file));

// Each measurement runs in its own process, so its peak RSS is its own.
const EXPORT_CHILD = `
import { openRvcModel } from ${src('core/models/rvcCheckpoint.ts')};
import { exportRvcModel } from ${src('core/models/onnx/rvcExporter.ts')};
const [mode, pth, out] = process.argv.slice(2);
const start = performance.now();
const model = await openRvcModel(pth);
let bytes = 0;
if (mode === 'read') { for (const name of model.tensorNames()) bytes += (await model.tensor(name)).data.byteLength; }
else bytes = (await exportRvcModel(model, out)).bytes;
await model.close();
console.log(JSON.stringify({ ms: performance.now() - start, bytes, maxRssMb: process.resourceUsage().maxRSS / 1024, params: model.parameterCount }));
`;

const CONVERT_CHILD = `
import { VoiceConverter } from ${src('core/inference/voiceConverter.ts')};
import { floatToInt16, writeWav16 } from ${src('core/inference/wavFile.ts')};
import { CONVERT_DEFAULTS } from ${src('protocol/inferenceWorkerProtocol.ts')};
const [dir, fixtures, seconds, threads, modelPath] = process.argv.slice(2);
const rate = 44100, n = Number(seconds) * rate, x = new Float32Array(n);
let phase = 0;
for (let i = 0; i < n; i++) { const t = i / rate; phase += 2 * Math.PI * (150 + 40 * Math.sin(2 * Math.PI * 0.7 * t)) / rate;
  x[i] = (Math.floor(t * 2) % 4 === 3 ? 0.002 : 0.4) * (Math.sin(phase) + 0.3 * Math.sin(2 * phase)); }
writeWav16(dir + '/in.wav', floatToInt16(x), rate);
writeWav16(dir + '/warm.wav', floatToInt16(x.subarray(0, 4 * rate)), rate);
const params = { ...CONVERT_DEFAULTS, modelPath, contentVecPath: fixtures + '/onnx/aux/vec-768-layer-12.standin.onnx', inputPath: dir + '/in.wav',
  outputPath: dir + '/out.wav', modelSampleRate: 40000, seed: 1, threads: Number(threads), indexRate: 0 };
const converter = new VoiceConverter();
await converter.convert({ ...params, inputPath: dir + '/warm.wav', outputPath: dir + '/warm-out.wav' });
const result = await converter.convert(params);
await converter.dispose();
console.log(JSON.stringify({ costMs: result.costMs, synthesisMs: result.stages.synthesis, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
`;

function child<T>(script: string, args: string[]): T {
  const out = execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

export async function run(): Promise<BenchResult[]> {
  const fullPth = process.env['RVC_STUDIO_BENCH_FULL_PTH'];
  const fullRvc = process.env['RVC_STUDIO_BENCH_FULL_MODEL'];
  const pth = fullPth ? path.resolve(fullPth) : path.join(fixtures, 'assets/weights/alto-demo.pth');
  const rvcOnnx = fullPth ? (fullRvc ? path.resolve(fullRvc) : null) : path.join(fixtures, 'onnx/alto-demo.onnx');
  if (!fs.existsSync(pth) || !fs.existsSync(path.join(fixtures, 'onnx/aux'))) {
    console.warn('SKIP: ../shared/fixtures not found — the export benchmark needs rvc-real-a.');
    return [];
  }
  if (!fullPth)
    console.warn(
      'full width: set RVC_STUDIO_BENCH_FULL_PTH (and RVC_STUDIO_BENCH_FULL_MODEL, RVC’s export of it); measuring the shrunk fixture model.',
    );
  const label = `[${path.basename(pth)}]`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-studio-bench-export-'));
  try {
    const exportScript = path.join(dir, 'export.ts');
    const convertScript = path.join(dir, 'convert.ts');
    fs.writeFileSync(exportScript, EXPORT_CHILD);
    fs.writeFileSync(convertScript, CONVERT_CHILD);
    const ours = path.join(dir, 'ours.onnx');
    type ExportRun = { ms: number; bytes: number; maxRssMb: number; params: number };
    const read = child<ExportRun>(exportScript, ['read', pth, '']);
    const exported = child<ExportRun>(exportScript, ['export', pth, ours]);
    const results: BenchResult[] = [
      {
        name: `${label} export to ONNX (${exported.params} parameters, ${(exported.bytes / 1e6).toFixed(1)} MB written)`,
        value: exported.ms,
        unit: 'ms',
        baseline: { name: 'open and read every weight as float32', value: read.ms },
        ratio: exported.ms / read.ms,
      },
      {
        name: `${label} peak RSS of the exporting process`,
        value: exported.maxRssMb,
        unit: 'MB',
        baseline: { name: 'reading the weights alone', value: read.maxRssMb },
        ratio: exported.maxRssMb / read.maxRssMb,
      },
    ];
    if (!rvcOnnx) return results;
    type ConvertRun = { costMs: number; synthesisMs: number; maxRssMb: number };
    const mine = child<ConvertRun>(convertScript, [dir, fixtures, String(SECONDS), String(THREADS), ours]);
    const theirs = child<ConvertRun>(convertScript, [dir, fixtures, String(SECONDS), String(THREADS), rvcOnnx]);
    const ms = SECONDS * 1000;
    results.push(
      {
        name: `${label} conversion RTF, ${SECONDS} s input, ${THREADS} threads, our export`,
        value: mine.costMs / ms,
        unit: 'x real time',
        baseline: { name: "RVC's export of the same model", value: theirs.costMs / ms },
        ratio: mine.costMs / theirs.costMs,
      },
      {
        name: `${label}   synthesis stage alone, our export`,
        value: mine.synthesisMs / ms,
        unit: 'x real time',
        baseline: { name: "RVC's export", value: theirs.synthesisMs / ms },
        ratio: mine.synthesisMs / theirs.synthesisMs,
      },
      {
        name: `${label}   peak RSS converting, our export`,
        value: mine.maxRssMb,
        unit: 'MB',
        baseline: { name: "RVC's export", value: theirs.maxRssMb },
        ratio: mine.maxRssMb / theirs.maxRssMb,
      },
    );
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
