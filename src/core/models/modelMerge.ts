import * as path from 'node:path';
import { msg, UserError } from '../util/errors.ts';
import { orderedDict, type SaveDict, type SaveValue, TensorToSave } from './pickleWriter.ts';
import {
  checkOutput,
  closeWeights,
  halfStorage,
  type OpenedWeights,
  openWeights,
  type OutputPolicy,
  srLabel,
  type WrittenModel,
} from './checkpointTools.ts';
import { saveTorchFile } from './torchSave.ts';

/**
 * RVC's `merge` (process_ckpt.py:206-261): A·alpha + B·(1 − alpha), tensor by tensor in A's order,
 * exactly as torch computes `(alpha * A.float() + (1 - alpha) * B.float()).half()`:
 * f16_rne(f32(f32(f32(alpha)·a) + f32(f32(1 − alpha)·b))), with 1 − alpha taken in float64 (a Python
 * float) before it becomes float32. `emb_g.weight` alone may differ in rows (speakers): the first
 * min(rows) of both are blended.
 *
 * Where this differs from RVC, on purpose:
 * - A or B may be a G_*.pth (its fp32 weights without enc_q, config from its config.json); RVC
 *   fails on one as A (KeyError: 'config') and always refuses one as B;
 * - sample rate, version, pitch, weight names and shapes are compared first and a mismatch is
 *   refused in one sentence naming both files, where RVC returns a broadcasting traceback for shapes;
 * - sr, f0 and version are the models' own (RVC writes its arguments: the WebUI's defaults label a
 *   v2 merge v1, and under an English UI f0 = 0 for a pitch model);
 * - when emb_g is cut, the config's spk_embed_dim says the rows kept (RVC keeps A's).
 */

export interface MergeOptions extends OutputPolicy {
  alpha: number;
  out: string;
  info?: string;
  configJsonA?: string;
  configJsonB?: string;
}

const EMB_G = 'emb_g.weight';
const SPK_EMBED_DIM = 15; // its index in the config list

export async function mergeModels(fileA: string, fileB: string, options: MergeOptions): Promise<WrittenModel> {
  if (!(options.alpha >= 0 && options.alpha <= 1))
    throw new UserError(msg`The merge weight alpha must be between 0 and 1 (got ${options.alpha}).`, 'ckpt-alpha');
  checkOutput(options.out, [fileA, fileB], options);
  const a = await openWeights(fileA, options.configJsonA);
  try {
    const b = await openWeights(fileB, options.configJsonB);
    try {
      return await mergeOpened(a, b, options);
    } finally {
      await closeWeights(b);
    }
  } finally {
    await closeWeights(a);
  }
}

async function mergeOpened(a: OpenedWeights, b: OpenedWeights, options: MergeOptions): Promise<WrittenModel> {
  const speakers = checkCompatible(a, b);
  const alpha = Math.fround(options.alpha);
  const beta = Math.fround(1 - options.alpha);
  const weight: SaveDict = new Map();
  for (const [name, tensorA] of a.weights) {
    const tensorB = b.weights.get(name)!;
    const [x, y] = await Promise.all([a.checkpoint.tensorData(tensorA), b.checkpoint.tensorData(tensorB)]);
    const shape = name === EMB_G ? [speakers, ...tensorA.shape.slice(1)] : [...tensorA.shape];
    const count = shape.reduce((n, d) => n * d, 1);
    const blended = new Float32Array(count);
    for (let i = 0; i < count; i++) blended[i] = Math.fround(alpha * x[i]!) + Math.fround(beta * y[i]!);
    weight.set(name, new TensorToSave(halfStorage(blended), shape));
  }
  const config: SaveValue[] = [...a.config];
  if (speakers !== a.model.speakers) config[SPK_EMBED_DIM] = speakers;
  const sr = srLabel(a.model.sampleRate);
  const f0 = a.model.f0 ? 1 : 0;
  const info = options.info ?? '';
  // RVC's order: weight, config, sr, f0, version, info.
  const root = orderedDict([
    ['weight', weight],
    ['config', config],
    ['sr', sr],
    ['f0', f0],
    ['version', a.model.version],
    ['info', info],
  ]);
  await saveTorchFile(options.out, root);
  return { file: options.out, tensors: weight.size, info, sr, f0, version: a.model.version };
}

/** One sentence naming both files and their first difference; returns the speaker rows kept. */
function checkCompatible(a: OpenedWeights, b: OpenedWeights): number {
  const [nameA, nameB] = [path.basename(a.model.file), path.basename(b.model.file)];
  const [ma, mb] = [a.model, b.model];
  if (ma.sampleRate !== mb.sampleRate)
    throw new UserError(
      msg`Cannot merge ${nameA} with ${nameB}: ${nameA} is a ${ma.sampleRate} Hz model and ${nameB} a ${mb.sampleRate} Hz one.`,
      'ckpt-merge-rate',
    );
  if (ma.version !== mb.version)
    throw new UserError(
      msg`Cannot merge ${nameA} with ${nameB}: ${nameA} is an RVC ${ma.version} model and ${nameB} an RVC ${mb.version} one.`,
      'ckpt-merge-version',
    );
  if (ma.f0 !== mb.f0) {
    const [withPitch, without] = ma.f0 ? [nameA, nameB] : [nameB, nameA];
    throw new UserError(
      msg`Cannot merge ${nameA} with ${nameB}: ${withPitch} is guided by pitch (f0) and ${without} is not.`,
      'ckpt-merge-pitch',
    );
  }
  checkSameNames(a, b, nameA, nameB);
  for (const [name, ta] of a.weights) {
    const tb = b.weights.get(name)!;
    const same = ta.shape.length === tb.shape.length && ta.shape.every((d, i) => d === tb.shape[i]);
    const rowsOnly = name === EMB_G && ta.shape.length === tb.shape.length && ta.shape.slice(1).every((d, i) => d === tb.shape[i + 1]);
    if (!same && !rowsOnly)
      throw new UserError(
        msg`Cannot merge ${nameA} with ${nameB}: their architectures differ (${name} is [${ta.shape.join(', ')}] in ${nameA} and [${tb.shape.join(', ')}] in ${nameB}).`,
        'ckpt-merge-shape',
      );
  }
  return Math.min(a.weights.get(EMB_G)!.shape[0]!, b.weights.get(EMB_G)!.shape[0]!);
}

function checkSameNames(a: OpenedWeights, b: OpenedWeights, nameA: string, nameB: string): void {
  const onlyIn = (x: OpenedWeights, y: OpenedWeights): string | undefined => [...x.weights.keys()].find((k) => !y.weights.has(k));
  const missingInB = onlyIn(a, b);
  const missingInA = missingInB === undefined ? onlyIn(b, a) : undefined;
  const key = missingInB ?? missingInA;
  if (key === undefined) return;
  const [has, lacks] = missingInB !== undefined ? [nameA, nameB] : [nameB, nameA];
  throw new UserError(
    msg`Cannot merge ${nameA} with ${nameB}: their architectures differ (${has} has the weight ${key}, which ${lacks} lacks).`,
    'ckpt-merge-names',
  );
}
