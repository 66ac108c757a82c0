import * as path from 'node:path';
import { readIvfFlatIndex, searchIvfFlat } from '../../core/inference/faissIndex.ts';
import { readNpy } from '../../core/inference/npyFile.ts';
import { inspectModel, runModelWithManifest } from '../../core/inference/onnxModel.ts';
import { UserError } from '../../core/util/errors.ts';
import type { CliCommand } from '../command.ts';

function positiveInt(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${what} must be a positive integer (got "${String(value)}").`, 'usage');
  return n;
}

export const MODEL_COMMANDS: CliCommand[] = [
  {
    path: ['model', 'inspect'],
    usage: 'FILE',
    summary: "an ONNX model's inputs, outputs, dims, kind and feature size",
    positionals: { min: 1, max: 1 },
    async run(_ctx, { positionals }) {
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
      if (typeof values.inputs !== 'string' || typeof values.output !== 'string') throw new UserError('model run needs --inputs MANIFEST.json and --output DIR.', 'usage');
      const result = await runModelWithManifest(path.resolve(positionals[0]!), path.resolve(values.inputs), path.resolve(values.output));
      return {
        json: result,
        text: [...Object.entries(result.outputs).map(([name, o]) => `${name}: ${o.dtype} [${o.shape.join(', ')}] → ${path.join(result.outputDir, o.file)}`), `manifest: ${result.manifest}`],
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
      if (typeof values.queries !== 'string') throw new UserError('model index-search needs --queries FEATURES.npy.', 'usage');
      const index = readIvfFlatIndex(path.resolve(positionals[0]!));
      const queries = readNpy(path.resolve(values.queries));
      if (queries.shape.length !== 2 || queries.shape[1] !== index.d) {
        throw new UserError(`${values.queries} has shape (${queries.shape.join(', ')}); the index needs (rows, ${index.d}).`, 'bad-queries');
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
