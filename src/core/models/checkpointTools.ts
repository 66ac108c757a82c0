import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError } from '../util/errors.ts';
import { orderedDicts, type PickleDict, type PickleValue, TorchTensor } from './pickle.ts';
import { orderedDict, type SaveDict, type SaveValue, type StorageToSave, TensorToSave } from './pickleWriter.ts';
import { CONFIG_FIELDS, openRvcModel, type RvcModel } from './rvcCheckpoint.ts';
import { openTorchCheckpoint, type TorchCheckpoint } from './torchCheckpoint.ts';
import { saveTorchFile } from './torchSave.ts';

/**
 * RVC WebUI's "ckpt" tab (infer/lib/train/process_ckpt.py, 20240604) over our own `.pth` reader and
 * writer: extract a small model from a G checkpoint, set a model's info, merge two voices. The
 * tensors are RVC's bit for bit; the metadata is taken from the weights and the training's
 * config.json where RVC writes its arguments or a hard-coded table (each difference is named where
 * it is made). Every refusal comes before anything is written.
 */

export interface WrittenModel {
  file: string;
  tensors: number;
  info: string;
  sr: string;
  f0: 0 | 1;
  version: string;
}

export interface OutputPolicy {
  /** Write over an existing file (never the input, unless inPlace). */
  force?: boolean;
  /** set-info only: the output may be the input. */
  inPlace?: boolean;
}

const label = (file: string): string => path.basename(file);

/** Refuses an output that is one of the inputs (unless inPlace) or an existing file (unless force). */
export function checkOutput(out: string, inputs: readonly string[], policy: OutputPolicy = {}): void {
  const real = (file: string): string => (fs.existsSync(file) ? fs.realpathSync(file) : path.resolve(file));
  const input = inputs.find((file) => real(file) === real(out));
  if (input !== undefined && !policy.inPlace)
    throw new UserError(msg`${label(out)} is the input file; write the result under another name.`, 'ckpt-overwrite-input');
  if (input === undefined && fs.existsSync(out) && !policy.force)
    throw new UserError(msg`${out} already exists; pass --force to replace it.`, 'ckpt-output-exists');
  const folder = path.dirname(path.resolve(out));
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory())
    throw new UserError(msg`Cannot write ${label(out)}: the folder ${folder} does not exist.`, 'ckpt-output-folder');
}

/** RVC's sr labels: 40000 → "40k". */
export function srLabel(sampleRate: number): string {
  return `${sampleRate / 1000}k`;
}

// ---- fp16 ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** torch's `.half()` (c10::fp16_ieee_from_fp32_value): round to nearest even, overflow to ±inf, NaN → 0x7E00. */
export function halfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | (mantissa ? 0x7e00 : 0x7c00);
  const e = exponent - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    const rest = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    let bits = full >>> shift;
    if (rest > half || (rest === half && bits & 1)) bits++;
    return sign | bits;
  }
  let bits = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && bits & 1)) bits++; // a carry rounds up into the exponent, to inf at the top
  return sign | bits;
}

export function halfStorage(values: Float32Array, count = values.length): StorageToSave {
  const halves = new Uint16Array(count);
  for (let i = 0; i < count; i++) halves[i] = halfBits(values[i]!);
  return { dtype: 'float16', bytes: new Uint8Array(halves.buffer) };
}

// ---- reading the weights as they are stored ----

export interface OpenedWeights {
  model: RvcModel;
  checkpoint: TorchCheckpoint;
  /** The stored tensors by their stored names, in file order; enc_q left out for a G checkpoint. */
  weights: Map<string, TorchTensor>;
  /** The `config` list as the file has it (small model) or as savee builds it from config.json (G). */
  config: SaveValue[];
}

export async function openWeights(file: string, configJson: string | undefined): Promise<OpenedWeights> {
  const model = await openRvcModel(file, configJson === undefined ? {} : { configJson });
  let checkpoint: TorchCheckpoint | undefined;
  try {
    checkpoint = await openTorchCheckpoint(file);
    const root = checkpoint.root as PickleDict;
    const stored = (model.kind === 'small' ? root.get('weight') : root.get('model')) as PickleDict;
    const weights = new Map<string, TorchTensor>();
    for (const [key, value] of stored) {
      if (typeof key !== 'string' || !(value instanceof TorchTensor)) continue;
      if (model.kind === 'g-checkpoint' && key.includes('enc_q')) continue;
      weights.set(model.kind === 'g-checkpoint' ? key.replace(/^module\./, '') : key, value);
    }
    const config = model.kind === 'small' ? toSaveValue(root.get('config')!, file) : configList(model);
    return { model, checkpoint, weights, config: config as SaveValue[] };
  } catch (error) {
    await checkpoint?.close();
    await model.close();
    throw error;
  }
}

export async function closeWeights(pair: OpenedWeights): Promise<void> {
  await pair.checkpoint.close();
  await pair.model.close();
}

/** savee's list, from the training's config.json (the reader's config; spk_embed_dim = emb_g's rows). */
function configList(model: RvcModel): SaveValue[] {
  return CONFIG_FIELDS.map((field) => {
    const value = model.config[field];
    return Array.isArray(value) ? value.map((v: number | number[]) => (Array.isArray(v) ? [...v] : v)) : value;
  }) as SaveValue[];
}

/** A value as torch.load gives it, to save again: dicts keep their kind, tensors their dtype and bytes. */
function toSaveValue(value: PickleValue, file: string): SaveValue {
  if (value instanceof Map) {
    const out: SaveDict = orderedDicts.has(value) ? orderedDict() : new Map();
    for (const [key, item] of value) {
      if (typeof key !== 'string' && typeof key !== 'number')
        throw new UserError(msg`${label(file)} holds a dict key RVC Studio cannot write back (${String(key)}).`, 'ckpt-unwritable');
      out.set(key, toSaveValue(item, file));
    }
    return out;
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => toSaveValue(item, file));
    return Object.isFrozen(value) ? Object.freeze(items) : items;
  }
  if (value instanceof TorchTensor || value === null || ['boolean', 'number', 'bigint', 'string'].includes(typeof value))
    return value as SaveValue;
  throw new UserError(msg`${label(file)} holds a value RVC Studio cannot write back (${typeof value}).`, 'ckpt-unwritable');
}

/** Replaces every TorchTensor in a converted value by its bytes in a storage of its own. */
async function loadTensors(value: SaveValue, checkpoint: TorchCheckpoint): Promise<SaveValue> {
  if (value instanceof TorchTensor) {
    const bytes = await checkpoint.tensorBytes(value);
    return new TensorToSave({ dtype: value.dtype, bytes }, value.shape);
  }
  if (value instanceof Map) {
    for (const [key, item] of value) value.set(key, await loadTensors(item, checkpoint));
    return value;
  }
  if (Array.isArray(value)) {
    const items = await Promise.all(value.map((item: SaveValue) => loadTensors(item, checkpoint)));
    return Object.isFrozen(value) ? Object.freeze(items) : items;
  }
  return value;
}

/** A `.pth` as torch.load(map_location="cpu") gives it, ready to save again (each tensor in a storage of its own). */
export async function loadForSave(file: string): Promise<SaveDict> {
  const checkpoint = await openTorchCheckpoint(file);
  try {
    const root = await loadTensors(toSaveValue(checkpoint.root, file), checkpoint);
    if (!(root instanceof Map)) throw new UserError(msg`${label(file)} is a PyTorch file but not an RVC model.`, 'ckpt-not-model');
    return root;
  } finally {
    await checkpoint.close();
  }
}

// ---- set-info (change_info) ----

/**
 * change_info: the file with `info` set, everything else as loaded (key order, dict kinds, dtypes,
 * bytes). Unlike RVC, the output is never the input unless asked, and keeps the name it is given.
 */
export async function setModelInfo(input: string, info: string, out: string, policy: OutputPolicy = {}): Promise<WrittenModel> {
  checkOutput(out, [input], policy);
  const model = await openRvcModel(input);
  const { version, f0, sampleRate, kind } = model;
  await model.close();
  if (kind !== 'small')
    throw new UserError(
      msg`${label(input)} is a G training checkpoint, which has no info to set; extract a small model from it first.`,
      'ckpt-not-small',
    );
  const root = await loadForSave(input);
  root.set('info', info);
  await saveTorchFile(out, root);
  const weights = root.get('weight') as SaveDict;
  const sr = typeof root.get('sr') === 'string' ? (root.get('sr') as string) : srLabel(sampleRate);
  return { file: out, tensors: weights.size, info, sr, f0: f0 ? 1 : 0, version };
}

// ---- extract (extract_small_model) ----

/**
 * extract_small_model: every weight but enc_q's, in order, cast to fp16. The config is the one the
 * training used (its config.json, as savee writes it) where RVC writes a hard-coded full-width table;
 * sr, f0 and version come from that config and the weights where RVC writes its arguments.
 */
export async function extractSmallModel(
  input: string,
  options: { info?: string; out: string; configJson?: string } & OutputPolicy,
): Promise<WrittenModel> {
  checkOutput(options.out, [input], options);
  const pair = await openWeights(input, options.configJson);
  try {
    const { model } = pair;
    if (model.kind !== 'g-checkpoint')
      throw new UserError(
        msg`${label(input)} is already a small model; extract works on a G_*.pth training checkpoint.`,
        'ckpt-already-small',
      );
    const weight: SaveDict = new Map();
    for (const [name, tensor] of pair.weights) {
      weight.set(name, new TensorToSave(halfStorage(await pair.checkpoint.tensorData(tensor)), tensor.shape));
    }
    const info = options.info ? options.info : 'Extracted model.';
    const sr = srLabel(model.sampleRate);
    const f0 = model.f0 ? 1 : 0;
    // RVC's order here: weight, config, info, version, sr, f0 (savee's differs; both load alike).
    const root = orderedDict([
      ['weight', weight],
      ['config', pair.config],
      ['info', info],
      ['version', model.version],
      ['sr', sr],
      ['f0', f0],
    ]);
    await saveTorchFile(options.out, root);
    return { file: options.out, tensors: weight.size, info, sr, f0, version: model.version };
  } finally {
    await closeWeights(pair);
  }
}
