import * as fs from 'node:fs';
import * as path from 'node:path';
import { isPthModel } from '../models/exportCache.ts';
import { decodeModel } from '../models/onnx/onnxProto.ts';
import { msg, UserError } from '../util/errors.ts';

/**
 * A synthesizer's output rate comes from (first wins): the user (`--sr`), a sidecar
 * `<model>.onnx.json` next to the model ({"sampleRate": 40000}; our exports write one), the graph
 * itself (RVC's decoder upsamples each 10 ms frame by the product of its ConvTranspose strides, so
 * rate = 100 × hop), or the training the model was exported from. Unknown → a clear error.
 */
export const MODEL_SAMPLE_RATES = [32000, 40000, 48000] as const;

export interface ModelSidecar {
  sampleRate?: number;
  version?: 'v1' | 'v2';
  training?: string;
}

export function sidecarPath(modelPath: string): string {
  return `${modelPath}.json`;
}

export function readSidecar(modelPath: string): ModelSidecar | null {
  const file = sidecarPath(modelPath);
  if (!fs.existsSync(file)) return null;
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!parsed || typeof parsed !== 'object') throw new Error('not an object');
    return parsed as ModelSidecar;
  } catch (error) {
    throw new UserError(msg`${file} is not valid JSON (${(error as Error).message}); fix it or delete it.`, 'bad-sidecar');
  }
}

export function writeSidecar(modelPath: string, sidecar: ModelSidecar): string {
  const file = sidecarPath(modelPath);
  fs.writeFileSync(file, JSON.stringify(sidecar, null, 2) + '\n');
  return file;
}

export function parseModelSampleRate(value: string | number): number {
  const text = String(value).trim().toLowerCase();
  const rate = /^\d+k$/.test(text) ? Number(text.slice(0, -1)) * 1000 : Number(text);
  if (!(MODEL_SAMPLE_RATES as readonly number[]).includes(rate))
    throw new UserError(msg`Model sample rate "${value}" is not 32000, 40000 or 48000 (or 32k/40k/48k).`, 'usage');
  return rate;
}

export interface SampleRateSources {
  explicit?: string | number | null;
  /** Looks up the training the model came from (by the model's base name); null if none. */
  fromTraining?: (modelBaseName: string) => number | null;
}

/** 100 × the product of the graph's ConvTranspose strides when that is an RVC rate; null otherwise. */
export function graphSampleRate(modelPath: string): number | null {
  let hop = 1;
  let found = 0;
  try {
    for (const node of decodeModel(fs.readFileSync(modelPath)).graph.nodes) {
      if (node.opType !== 'ConvTranspose') continue;
      const strides = node.attributes['strides'];
      if (strides?.kind !== 'ints') return null;
      hop *= strides.value.reduce((a, b) => a * b, 1);
      found++;
    }
  } catch {
    return null; // not readable as ONNX here: onnxruntime will say why when the model is opened
  }
  const rate = hop * 100;
  return found > 0 && (MODEL_SAMPLE_RATES as readonly number[]).includes(rate) ? rate : null;
}

/**
 * For a `.pth` the answer is 0, "the model's own": its `sr` (or its training's config.json) is read
 * when it is exported, in the worker, so nothing here opens the checkpoint.
 */
export function resolveModelSampleRate(
  modelPath: string,
  sources: SampleRateSources = {},
): { sampleRate: number; source: 'user' | 'model' | 'sidecar' | 'graph' | 'training' } {
  if (sources.explicit !== undefined && sources.explicit !== null && sources.explicit !== '')
    return { sampleRate: parseModelSampleRate(sources.explicit), source: 'user' };
  if (isPthModel(modelPath)) return { sampleRate: 0, source: 'model' };
  const sidecar = readSidecar(modelPath);
  if (sidecar?.sampleRate !== undefined) return { sampleRate: parseModelSampleRate(sidecar.sampleRate), source: 'sidecar' };
  const fromGraph = graphSampleRate(modelPath);
  if (fromGraph !== null) return { sampleRate: fromGraph, source: 'graph' };
  const base = path.basename(modelPath).replace(/\.onnx$/i, '');
  const fromTraining = sources.fromTraining?.(base) ?? null;
  if (fromTraining !== null) return { sampleRate: parseModelSampleRate(fromTraining), source: 'training' };
  throw new UserError(
    msg`The sample rate of ${path.basename(modelPath)} is unknown: pass --sr 32k|40k|48k, or write ${path.basename(sidecarPath(modelPath))} next to it with {"sampleRate": 40000}.`,
    'unknown-sample-rate',
  );
}
