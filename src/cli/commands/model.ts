import * as fs from 'node:fs';
import * as path from 'node:path';
import { readIvfFlatIndex, searchIvfFlat } from '../../core/inference/faissIndex.ts';
import { readNpy } from '../../core/inference/npyFile.ts';
import { inspectModel, runModelWithManifest } from '../../core/inference/onnxModel.ts';
import { extractSmallModel, setModelInfo, type WrittenModel } from '../../core/models/checkpointTools.ts';
import { isPthModel } from '../../core/models/exportCache.ts';
import { mergeModels } from '../../core/models/modelMerge.ts';
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

function written(model: WrittenModel, what: string): CliResult {
  const file = path.resolve(model.file);
  return {
    json: { ...model, file, bytes: fs.statSync(file).size },
    text: `${what} ${file}  (${model.tensors} tensors; ${model.sr} ${model.version}, f0 ${model.f0}; info "${model.info}")`,
  };
}

function outOption(values: CliArgs['values'], command: string): string {
  if (typeof values.out !== 'string') throw new UserError(msg`${command} needs --out FILE.pth.`, 'usage');
  return path.resolve(values.out);
}

function stringOption(values: CliArgs['values'], name: string): string | undefined {
  return typeof values[name] === 'string' ? values[name] : undefined;
}

async function extractCommand(_ctx: CliContext, { positionals, values }: CliArgs): Promise<CliResult> {
  const model = await extractSmallModel(path.resolve(positionals[0]!), {
    out: outOption(values, 'model extract'),
    info: stringOption(values, 'info'),
    configJson: stringOption(values, 'config'),
    force: values.force === true,
  });
  return written(model, 'wrote');
}

async function setInfoCommand(_ctx: CliContext, { positionals, values }: CliArgs): Promise<CliResult> {
  const input = path.resolve(positionals[0]!);
  const info = stringOption(values, 'info');
  if (info === undefined) throw new UserError(msg`model set-info needs --info TEXT.`, 'usage');
  const inPlace = values['in-place'] === true;
  if (inPlace === (typeof values.out === 'string'))
    throw new UserError(msg`model set-info needs exactly one of --out FILE.pth and --in-place.`, 'usage');
  const out = inPlace ? input : path.resolve(values.out as string);
  return written(await setModelInfo(input, info, out, { inPlace, force: values.force === true }), inPlace ? 'rewrote' : 'wrote');
}

async function mergeCommand(_ctx: CliContext, { positionals, values }: CliArgs): Promise<CliResult> {
  const alphaText = stringOption(values, 'alpha');
  const alpha = alphaText === undefined || alphaText.trim() === '' ? NaN : Number(alphaText);
  if (!(alpha >= 0 && alpha <= 1))
    throw new UserError(msg`model merge needs --alpha, the share of A from 0 to 1 (got "${alphaText ?? ''}").`, 'usage');
  const model = await mergeModels(path.resolve(positionals[0]!), path.resolve(positionals[1]!), {
    alpha,
    out: outOption(values, 'model merge'),
    info: stringOption(values, 'info'),
    configJsonA: stringOption(values, 'config-a'),
    configJsonB: stringOption(values, 'config-b'),
    force: values.force === true,
  });
  return written(model, 'wrote');
}

export const MODEL_COMMANDS: CliCommand[] = [
  {
    path: ['model', 'extract'],
    usage: 'G.pth --out F.pth [--info TEXT] [--config config.json] [--force]',
    summary:
      "RVC's \"extract small model\": a G_*.pth's weights as fp16 without enc_q, with its training's config.json (beside it, or --config); never over an existing file unless --force",
    positionals: { min: 1, max: 1 },
    options: { out: { type: 'string' }, info: { type: 'string' }, config: { type: 'string' }, force: { type: 'boolean' } },
    run: extractCommand,
  },
  {
    path: ['model', 'set-info'],
    usage: 'MODEL.pth --info TEXT (--out F.pth | --in-place) [--force]',
    summary:
      'RVC\'s "modify info": the same model with another info, everything else byte for byte; the input is rewritten only with --in-place',
    positionals: { min: 1, max: 1 },
    options: { out: { type: 'string' }, info: { type: 'string' }, 'in-place': { type: 'boolean' }, force: { type: 'boolean' } },
    run: setInfoCommand,
  },
  {
    path: ['model', 'merge'],
    usage: 'A.pth B.pth --alpha X --out F.pth [--info TEXT] [--config-a J] [--config-b J] [--force]',
    summary:
      "RVC's merge, bit for bit: alpha·A + (1−alpha)·B in fp16; A or B may be a G_*.pth (with its config.json); models of another rate, version, pitch or shape are refused",
    positionals: { min: 2, max: 2 },
    options: {
      alpha: { type: 'string' },
      out: { type: 'string' },
      info: { type: 'string' },
      'config-a': { type: 'string' },
      'config-b': { type: 'string' },
      force: { type: 'boolean' },
    },
    run: mergeCommand,
  },
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
