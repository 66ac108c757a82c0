import * as path from 'node:path';
import { readIvfFlatIndex, searchIvfFlat } from '../../core/inference/faissIndex.ts';
import { readNpy } from '../../core/inference/npyFile.ts';
import { inspectModel, runModelWithManifest } from '../../core/inference/onnxModel.ts';
import { isPthModel } from '../../core/models/exportCache.ts';
import { exportRvcModel } from '../../core/models/onnx/rvcExporter.ts';
import { openRvcModel } from '../../core/models/rvcCheckpoint.ts';
import { msg, UserError } from '../../core/util/errors.ts';
import { dataMap } from '../jsonContract.ts';
import type { CliArgs, CliCommand, CliContext, CliResult } from '../command.ts';

function positiveInt(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(msg`${what} must be a positive integer (got "${String(value)}").`, 'usage');
  return n;
}

async function inspectPth(file: string): Promise<CliResult> {
  const model = await openRvcModel(file);
  try {
    const json = {
      file: path.resolve(file),
      bytes: model.bytes,
      sha256: model.sha256,
      kind: model.kind,
      version: model.version,
      f0: model.f0,
      sample_rate: model.sampleRate,
      feature_size: model.featureSize,
      speakers: model.speakers,
      epoch: model.epoch,
      step: model.step,
      info: model.info,
      parameters: model.parameterCount,
      tensors: model.tensorNames().length,
      config: dataMap({ ...model.config }),
      extra: dataMap({ ...model.extra }),
    };
    const c = model.config;
    return {
      json,
      text: [
        `${json.file}  (${json.bytes} bytes)  sha256 ${json.sha256}`,
        `RVC ${model.version} ${model.f0 ? 'pitch' : 'no-pitch'} model, ${model.sampleRate} Hz, ${model.kind === 'small' ? 'small model' : 'G checkpoint'}${model.epoch !== null ? `, epoch ${model.epoch}` : ''}${model.info ? ` (${model.info})` : ''}`,
        `${json.parameters} parameters in ${json.tensors} tensors; ${model.speakers} speakers; features ${model.featureSize}-d`,
        `widths: hidden ${c.hidden_channels}, filter ${c.filter_channels}, inter ${c.inter_channels}, gin ${c.gin_channels}, upsample ${c.upsample_initial_channel}; upsample rates ${c.upsample_rates.join('×')}`,
        ...Object.entries(model.extra).map(([k, v]) => `${k}: ${String(v)}`),
      ],
    };
  } finally {
    await model.close();
  }
}

async function exportCommand(ctx: CliContext, { positionals, values }: CliArgs): Promise<CliResult> {
  const source = path.resolve(positionals[0]!);
  const out =
    typeof values.out === 'string'
      ? path.resolve(values.out)
      : source.replace(/\.pth$/i, '') + (values['noise-free'] ? '.nonoise.onnx' : '.onnx');
  const model = await openRvcModel(source);
  let shown = -1;
  try {
    const result = await exportRvcModel(model, out, {
      noiseFree: values['noise-free'] === true,
      onProgress: (done, total) => {
        const percent = Math.floor((done / total) * 10) * 10;
        if (percent !== shown) ctx.info(`export ${percent}% (${done}/${total} weights)`);
        shown = percent;
      },
    });
    return {
      json: {
        file: result.file,
        bytes: result.bytes,
        ms: Math.round(result.ms),
        nodes: result.nodes,
        sidecar: `${result.file}.json`,
        ...result.sidecar,
      },
      text: `wrote ${result.file}  (${result.bytes} bytes, ${result.nodes} nodes, ${Math.round(result.ms)} ms; ${result.sidecar.sampleRate} Hz ${result.sidecar.version}${result.sidecar.f0 ? '' : ' no-pitch'}${result.sidecar.noiseFree ? ', noise-free' : ''})`,
    };
  } finally {
    await model.close();
  }
}

export const MODEL_COMMANDS: CliCommand[] = [
  {
    path: ['model', 'export'],
    usage: 'FILE.pth [--out F.onnx] [--noise-free]',
    summary:
      "turn an RVC .pth (small model or G_*.pth checkpoint) into an ONNX synthesizer with RVC's inputs, no Python; --noise-free zeroes the NSF source noise (for comparisons)",
    positionals: { min: 1, max: 1 },
    options: { out: { type: 'string' }, 'noise-free': { type: 'boolean' } },
    run: exportCommand,
  },
  {
    path: ['model', 'inspect'],
    usage: 'FILE',
    summary: "an ONNX model's inputs, outputs, dims, kind and feature size; for a .pth: its config, metadata, parameters and sha256",
    positionals: { min: 1, max: 1 },
    async run(_ctx, { positionals }) {
      if (isPthModel(positionals[0]!)) return inspectPth(path.resolve(positionals[0]!));
      const d = await inspectModel(path.resolve(positionals[0]!));
      const dims = (shape: (number | string)[]): string => `[${shape.join(', ')}]`;
      return {
        json: d,
        text: [
          `${d.file}  (${d.size} bytes)  kind: ${d.kind}${d.featureSize ? `, feature size ${d.featureSize}` : ''}`,
          'inputs:',
          ...d.inputs.map((i) => `  ${i.name}  ${i.type}  ${dims(i.shape)}`),
          'outputs:',
          ...d.outputs.map((o) => `  ${o.name}  ${o.type}  ${dims(o.shape)}`),
        ],
      };
    },
  },
  {
    path: ['model', 'run'],
    usage: 'FILE --inputs MANIFEST.json --output DIR',
    summary: 'run a model on raw tensors (fixtures manifest format); writes raw outputs + manifest.json',
    positionals: { min: 1, max: 1 },
    options: { inputs: { type: 'string' }, output: { type: 'string' } },
    async run(_ctx, { positionals, values }) {
      if (typeof values.inputs !== 'string' || typeof values.output !== 'string')
        throw new UserError(msg`model run needs --inputs MANIFEST.json and --output DIR.`, 'usage');
      const result = await runModelWithManifest(path.resolve(positionals[0]!), path.resolve(values.inputs), path.resolve(values.output));
      return {
        json: { ...result, outputs: dataMap({ ...result.outputs }) },
        text: [
          ...Object.entries(result.outputs).map(
            ([name, o]) => `${name}: ${o.dtype} [${o.shape.join(', ')}] → ${path.join(result.outputDir, o.file)}`,
          ),
          `manifest: ${result.manifest}`,
        ],
      };
    },
  },
  {
    path: ['model', 'index-search'],
    usage: 'INDEX --queries FEATURES.npy [--rows N] [--k 8] [--nprobe N]',
    summary: "search RVC's faiss IVF-Flat index as faiss does (nprobe from the file); ids and distances per row",
    positionals: { min: 1, max: 1 },
    options: { queries: { type: 'string' }, rows: { type: 'string' }, k: { type: 'string' }, nprobe: { type: 'string' } },
    run(_ctx, { positionals, values }) {
      if (typeof values.queries !== 'string') throw new UserError(msg`model index-search needs --queries FEATURES.npy.`, 'usage');
      const index = readIvfFlatIndex(path.resolve(positionals[0]!));
      const queries = readNpy(path.resolve(values.queries));
      if (queries.shape.length !== 2 || queries.shape[1] !== index.d) {
        throw new UserError(
          msg`${values.queries} has shape (${queries.shape.join(', ')}); the index needs (rows, ${index.d}).`,
          'bad-queries',
        );
      }
      const rows = Math.min(positiveInt(values.rows, '--rows', queries.shape[0]!), queries.shape[0]!);
      const k = positiveInt(values.k, '--k', 8);
      const nprobe = positiveInt(values.nprobe, '--nprobe', index.nprobe);
      const { ids, distances } = searchIvfFlat(index, queries.data.subarray(0, rows * index.d), k, nprobe);
      return {
        json: { index: { d: index.d, ntotal: index.ntotal, nlist: index.nlist, nprobe }, k, rows, ids, distances },
        text: ids.map((row, i) => `${i}: ${row.map((id, j) => `${id}:${distances[i]![j]!.toFixed(3)}`).join(' ')}`),
      };
    },
  },
];
