// A 60 s conversion with the pipeline's real settings (RMVPE, ContentVec, index, noise on), stage by
// stage, against the synthesizer alone in the same run on exactly the same calls (RVC's CPU
// chunking cuts 60 s into 2 calls of unequal length; the baseline gets those frame counts, prepared
// inputs, the same threads). Goal: pipeline ≤ 1.10× the synthesizer, with the models held (a
// panel's second file) against a warmed session; the first conversion of a fresh converter, which
// opens every model, is set against a fresh session's first calls. On this kind of VM a fresh
// session's first calls are slow and vary by 2× (the memory its arena first touches), so the held
// numbers are medians. Each conversion runs in a child process (conversionChild.ts), so its peak RSS is its
// own. The voice is rvc-fidelity's tenor-48k.pth (exported to ONNX on first use: that export is timed
// in its own process and left out of the ratio); rvc-real-a's alto-demo.onnx (40k) runs too. Both
// are shrunk models and the RMVPE and ContentVec are stand-ins, so the stage split is what this
// shows, not a full-width model's speed: RVC_STUDIO_BENCH_FULL_MODEL names a full-width RVC v2 40k
// synthesizer exported by RVC's own code (README, Benchmarks, says how to make one).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { floatToInt16, writeWav16 } from '../../src/core/inference/wavFile.ts';
import type { ConvertResult, ConvertStage } from '../../src/protocol/inferenceWorkerProtocol.ts';
import type { BenchResult } from './benchResult.ts';
import type { ChildConfig, ExportRun, MeasureRun } from './conversionChild.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.resolve(here, '../../../shared/fixtures');
const fidelity = path.join(shared, 'rvc-fidelity');
const realA = path.join(shared, 'rvc-real-a');
const SECONDS = 60;
const THREADS = 2;
const GOAL = 1.1;
/** Share of the synthesizer's time above which a stage is worth a profile. */
const LARGE_SHARE = 0.05;
const STAGES: readonly ConvertStage[] = ['export', 'load', 'decode', 'resample', 'f0', 'features', 'index', 'synthesis', 'post'];
const STAGE_NOTES: Partial<Record<ConvertStage, string>> = {
  export: ' (cache check)',
  decode: ' (WAV → 16 kHz mono)',
  resample: ' (peak, high-pass, pad, cut search)',
  synthesis: ' (session.run + its tensors and trim)',
  post: ' (join, rms mix, int16 WAV)',
};

const voice = {
  pth: path.join(fidelity, 'voice/tenor-48k.pth'),
  index: path.join(fidelity, 'voice/added_IVF36_Flat_nprobe_1_tenor-48k_v2.index'),
};
const alto = {
  onnx: path.join(realA, 'onnx/alto-demo.onnx'),
  index: path.join(realA, 'logs/alto-demo/added_IVF37_Flat_nprobe_1_alto-demo_v2.index'),
};
const rmvpe = path.join(fidelity, 'rmvpe.standin.onnx');
const contentVec = path.join(realA, 'onnx/aux/vec-768-layer-12.standin.onnx');

/** A voiced glide (150 ± 40 Hz) at 44.1 kHz, quiet for half a second in every two, so the cut search has quiet points. */
function writeInput(file: string, seconds: number): void {
  const rate = 44100;
  const x = new Float32Array(seconds * rate);
  let phase = 0;
  for (let i = 0; i < x.length; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * (150 + 40 * Math.sin(2 * Math.PI * 0.7 * t))) / rate;
    x[i] = (Math.floor(t * 2) % 4 === 3 ? 0.002 : 0.4) * (Math.sin(phase) + 0.3 * Math.sin(2 * phase));
  }
  writeWav16(file, floatToInt16(x), rate);
}

function child<T>(mode: 'export' | 'measure', config: ChildConfig): T {
  const out = execFileSync(process.execPath, [path.join(here, 'conversionChild.ts'), mode, JSON.stringify(config)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

const percent = (ms: number, synthMs: number): string => `${((100 * ms) / synthMs).toFixed(1)} %`;
const share = (ms: number, synthMs: number): string => `ms = ${percent(ms, synthMs)} of the synthesizer`;
const withoutExport = (result: ConvertResult): number => result.costMs - result.stages.export;

/**
 * The lines of one model: the held-model conversion against the warmed synthesizer (the ratio the
 * goal is about), its stages as shares of the synthesizer, the first conversion of a fresh
 * converter against a fresh session's first calls, peak RSS, then the other f0 trackers.
 */
function report(label: string, run: MeasureRun): BenchResult[] {
  const main = run.steady[0]!;
  const synthMs = run.synthSteady.ms;
  const pipelineMs = withoutExport(main.result);
  const calls = `${run.frames.length} calls of ${run.frames.join(' + ')} frames`;
  const ratio = pipelineMs / synthMs;
  const results: BenchResult[] = [
    {
      name: `[${label}, ${main.f0Method}] conversion of ${SECONDS} s with the models held, ${THREADS} threads, ${calls}, median of ${main.runs}`,
      value: pipelineMs,
      unit: 'ms',
      baseline: { name: `synthesizer alone, same calls, warmed, median of ${run.synthSteady.runs}`, value: synthMs },
    },
    {
      name: `  ratio pipeline / synthesizer (goal ≤ ${GOAL.toFixed(2)}×)${ratio > GOAL ? ' — OVER THE GOAL' : ''}`,
      value: ratio,
      unit: '×',
    },
  ];
  for (const stage of STAGES) {
    const ms = main.result.stages[stage];
    const large = stage !== 'synthesis' && ms > LARGE_SHARE * synthMs ? ' (large)' : '';
    results.push({ name: `  stage ${stage}${STAGE_NOTES[stage] ?? ''}`, value: ms, unit: `${share(ms, synthMs)}${large}` });
  }
  results.push({
    name: `  synthesizer alone per call (${run.synthSteady.callMs.map((ms) => ms.toFixed(0)).join(' + ')} ms)`,
    value: synthMs,
    unit: 'ms',
  });
  const firstMs = withoutExport(run.first);
  results.push(
    {
      name: `  first conversion of a fresh converter (loads every model)`,
      value: firstMs,
      unit: 'ms',
      baseline: {
        name: `synthesizer alone, fresh session, first calls (${run.synthFirst.callMs.map((ms) => ms.toFixed(0)).join(' + ')} ms)`,
        value: run.synthFirst.ms,
      },
    },
    { name: '  ratio first conversion / synthesizer first calls', value: firstMs / run.synthFirst.ms, unit: '×' },
    { name: '    its stage load', value: run.first.stages.load, unit: share(run.first.stages.load, run.synthFirst.ms) },
    { name: '    its stage synthesis', value: run.first.stages.synthesis, unit: share(run.first.stages.synthesis, run.synthFirst.ms) },
    { name: '  peak RSS of the converting process', value: run.maxRssMb, unit: 'MB' },
  );
  for (const other of run.steady.slice(1)) {
    const f0Ms = other.result.stages.f0;
    results.push(
      {
        name: `  f0 tracker ${other.f0Method} instead of ${main.f0Method}: f0 stage (${percent(f0Ms, synthMs)} of the synthesizer)`,
        value: f0Ms,
        unit: 'ms',
        baseline: { name: `${main.f0Method} f0 stage`, value: main.result.stages.f0 },
        ratio: main.result.stages.f0 / f0Ms,
      },
      { name: `  f0 tracker ${other.f0Method}: ratio pipeline / synthesizer`, value: withoutExport(other.result) / synthMs, unit: '×' },
    );
  }
  return results;
}

export async function run(): Promise<BenchResult[]> {
  const needed = [voice.pth, voice.index, rmvpe, contentVec];
  const missing = needed.filter((file) => !fs.existsSync(file));
  if (missing.length > 0) {
    console.warn(
      `SKIP conversion benchmark: fixtures missing (${missing.join(', ')}) — it needs ../shared/fixtures rvc-fidelity and rvc-real-a.`,
    );
    return [];
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-studio-bench-conversion-'));
  try {
    const inputPath = path.join(dir, 'in.wav');
    const warmInputPath = path.join(dir, 'warm-in.wav');
    writeInput(inputPath, SECONDS);
    writeInput(warmInputPath, 4);
    const base = { contentVecPath: contentVec, rmvpePath: rmvpe, threads: THREADS, inputPath, warmInputPath, outDir: dir };
    const tenor: ChildConfig = {
      ...base,
      modelPath: voice.pth,
      modelSampleRate: 0,
      exportDir: path.join(dir, 'exports'),
      indexPath: voice.index,
      f0Methods: ['rmvpe', 'yin'],
    };
    const results: BenchResult[] = [];

    const exported = child<ExportRun>('export', tenor);
    const measured = child<MeasureRun>('measure', tenor);
    results.push(...report('tenor-48k.pth', measured));
    results.push({
      name: '  export .pth → ONNX on first use, cold process (left out of the ratio)',
      value: exported.result.stages.export,
      unit: `${share(exported.result.stages.export, measured.synthSteady.ms)}; its process peaked at ${exported.maxRssMb.toFixed(0)} MB`,
    });

    const others: { label: string; config: ChildConfig }[] = [];
    if (fs.existsSync(alto.onnx) && fs.existsSync(alto.index))
      others.push({
        label: 'alto-demo.onnx',
        config: {
          ...base,
          modelPath: alto.onnx,
          modelSampleRate: 40000,
          exportDir: path.join(dir, 'exports'),
          indexPath: alto.index,
          f0Methods: ['rmvpe'],
        },
      });
    else console.warn(`SKIP alto-demo variant: ${alto.onnx} or its index is missing (rvc-real-a).`);
    const fullWidth = process.env['RVC_STUDIO_BENCH_FULL_MODEL'];
    if (fullWidth)
      others.push({
        label: `full-width ${path.basename(fullWidth)}`,
        config: {
          ...base,
          modelPath: path.resolve(fullWidth),
          modelSampleRate: Number(process.env['RVC_STUDIO_BENCH_FULL_MODEL_SR'] ?? 40000),
          exportDir: path.join(dir, 'exports'),
          indexPath: voice.index, // another voice's 768-wide index: the same search work as its own
          f0Methods: ['rmvpe'],
        },
      });
    else
      console.warn(
        'SKIP full-width model: set RVC_STUDIO_BENCH_FULL_MODEL to an RVC v2 40k synthesizer exported by RVC (README, Benchmarks).',
      );
    for (const { label, config } of others) results.push(...report(label, child<MeasureRun>('measure', config)));
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
