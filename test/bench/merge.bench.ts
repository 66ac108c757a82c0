// `model merge` of two full-width models against reading the same two models (what any merger must
// do). Without settings it writes two full-width RVC v2 40k pitch small models of its own (random
// fp16 weights under the names and shapes RVC's SynthesizerTrnMs768NSFsid has, savee's config) with
// our writer; RVC_STUDIO_BENCH_MERGE_A and _B point it at two real ones instead (never committed).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { orderedDict, TensorToSave } from '../../src/core/models/pickleWriter.ts';
import { expectedParameters, type RvcSynthConfig } from '../../src/core/models/rvcArchitecture.ts';
import { CONFIG_FIELDS } from '../../src/core/models/rvcCheckpoint.ts';
import { saveTorchFile } from '../../src/core/models/torchSave.ts';
import type { BenchResult } from './benchResult.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const src = (file: string): string => JSON.stringify(path.join(repoRoot, 'src', file));

const FULL_V2_40K: RvcSynthConfig = {
  spec_channels: 1025,
  segment_size: 32,
  inter_channels: 192,
  hidden_channels: 192,
  filter_channels: 768,
  n_heads: 2,
  n_layers: 6,
  kernel_size: 3,
  p_dropout: 0,
  resblock: '1',
  resblock_kernel_sizes: [3, 7, 11],
  resblock_dilation_sizes: [
    [1, 3, 5],
    [1, 3, 5],
    [1, 3, 5],
  ],
  upsample_rates: [10, 10, 2, 2],
  upsample_initial_channel: 512,
  upsample_kernel_sizes: [16, 16, 4, 4],
  spk_embed_dim: 109,
  gin_channels: 256,
  sr: 40000,
};

// Each measurement in its own process, so its peak RSS is its own.
const CHILD = `
import { openTorchCheckpoint } from ${src('core/models/torchCheckpoint.ts')};
import { openRvcModel } from ${src('core/models/rvcCheckpoint.ts')};
import { mergeModels } from ${src('core/models/modelMerge.ts')};
const [mode, a, b, out] = process.argv.slice(2);
const start = performance.now();
let params = 0;
if (mode === 'read') {
  for (const file of [a, b]) {
    const model = await openRvcModel(file);
    await model.close();
    const checkpoint = await openTorchCheckpoint(file);
    for (const tensor of checkpoint.root.get('weight').values()) { params += tensor.numel; await checkpoint.tensorData(tensor); }
    await checkpoint.close();
  }
} else params = (await mergeModels(a, b, { alpha: 0.3, out })).tensors;
console.log(JSON.stringify({ ms: performance.now() - start, params, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
`;

async function syntheticModel(file: string, seed: number): Promise<void> {
  let state = seed;
  const weight = new Map<string, TensorToSave>();
  for (const [name, shape] of expectedParameters(FULL_V2_40K, { f0: true, featureSize: 768, speakers: 109 })) {
    const halves = new Uint16Array(shape.reduce((n, d) => n * d, 1));
    for (let i = 0; i < halves.length; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      halves[i] = 0x2000 + (state >>> 18) + (state & 0x8000); // small values of either sign
    }
    weight.set(name, new TensorToSave({ dtype: 'float16', bytes: new Uint8Array(halves.buffer) }, shape));
  }
  const config = CONFIG_FIELDS.map((field) => FULL_V2_40K[field]);
  await saveTorchFile(
    file,
    orderedDict([
      ['weight', weight],
      ['config', config],
      ['info', 'synthetic'],
      ['sr', '40k'],
      ['f0', 1],
      ['version', 'v2'],
    ]),
  );
}

export async function run(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-studio-bench-merge-'));
  try {
    let a = process.env['RVC_STUDIO_BENCH_MERGE_A'];
    let b = process.env['RVC_STUDIO_BENCH_MERGE_B'];
    if (!a || !b) {
      console.warn('RVC_STUDIO_BENCH_MERGE_A/_B not set: merging two synthetic full-width v2 40k models.');
      [a, b] = [path.join(dir, 'a.pth'), path.join(dir, 'b.pth')];
      await syntheticModel(a, 1);
      await syntheticModel(b, 2);
    }
    const script = path.join(dir, 'merge.ts');
    fs.writeFileSync(script, CHILD);
    const measure = (mode: string): { ms: number; params: number; maxRssMb: number } =>
      JSON.parse(
        execFileSync(process.execPath, [script, mode, a, b, path.join(dir, `out-${mode}.pth`)], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop()!,
      ) as {
        ms: number;
        params: number;
        maxRssMb: number;
      };
    const read = measure('read');
    const merge = measure('merge');
    const label = `[${path.basename(a)} + ${path.basename(b)}, ${(fs.statSync(a).size / 2 ** 20).toFixed(1)} MiB each]`;
    return [
      {
        name: `merge two models ${label}`,
        unit: 'ms',
        value: merge.ms,
        baseline: { name: 'read both', value: read.ms },
        ratio: read.ms / merge.ms,
      },
      {
        name: `merge peak RSS ${label}`,
        unit: 'MB',
        value: merge.maxRssMb,
        baseline: { name: 'read both', value: read.maxRssMb },
        ratio: read.maxRssMb / merge.maxRssMb,
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
