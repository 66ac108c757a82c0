import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256File } from '../util/fileHash.ts';
import { errorMessage, msg, UserError } from '../util/errors.ts';
import { type PickleDict, type PickleValue, TorchTensor } from './pickle.ts';
import { expectedParameters, type RvcSynthConfig } from './rvcArchitecture.ts';
import { epochFromInfo, openTorchCheckpoint, type TorchCheckpoint } from './torchCheckpoint.ts';

export type { RvcSynthConfig } from './rvcArchitecture.ts';

/**
 * An RVC `.pth` read as a voice model, for the ONNX exporter: which synthesizer it is (version,
 * pitch, sample rate, config) and its weights by the names the synthesizer uses, weight norm
 * folded. Two kinds of file are understood:
 * - small models (RVC's `savee`/`extract_small_model`, Applio's `extract_model`): `weight` (an fp16
 *   state dict without enc_q), `config` (18 items), `info`, `sr`, `f0`, `version`, plus Applio's
 *   `epoch`, `step`, `speakers_id`, `embedder_model`, `vocoder`, `author`;
 * - G checkpoints (`G_*.pth`): `model` (the fp32 state dict, enc_q included, maybe `module.`-
 *   prefixed), `iteration` (the epoch), `optimizer`, `learning_rate`; the config is the training's
 *   config.json.
 * Every weight the config implies is checked for presence and shape at open, so a model that
 * opens is one the exporter can build; a file that is not such a model gets one sentence saying why.
 */

export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

export interface RvcModel {
  file: string;
  sha256: string;
  bytes: number;
  kind: 'small' | 'g-checkpoint';
  version: 'v1' | 'v2';
  f0: boolean;
  sampleRate: number;
  featureSize: 256 | 768;
  speakers: number;
  config: RvcSynthConfig;
  epoch: number | null;
  step: number | null;
  info: string | null;
  extra: { speakersId?: number; embedderModel?: string; vocoder?: string; author?: string };
  /** Elements of the stored tensors the synthesizer uses (weight_g and weight_v counted apart, as torch counts a state dict). */
  parameterCount: number;
  /** Parameter names as the synthesizer uses them, weight norm already folded: e.g. 'dec.ups.0.weight' (never '…weight_g'/'…weight_v'/'parametrizations…'); enc_q.* excluded. */
  tensorNames(): string[];
  /** float32 data, weight norm folded: weight = g * v / ||v|| with the norm over all dims except dim 0 (torch weight_norm dim=0), for both spellings weight_g/weight_v and parametrizations.weight.original0/original1. */
  tensor(name: string): Promise<FloatTensor>;
  close(): Promise<void>;
}

const SAMPLE_RATES = [32000, 40000, 48000];
const FEATURE_SIZES: Record<string, 'v1' | 'v2'> = { 256: 'v1', 768: 'v2' };
/** RVC's train.py names the checkpoint of "save latest only" G_2333333.pth: no real step. */
const LATEST_ONLY_STEP = 2333333;

/** A folded parameter: one stored tensor, or the weight-norm pair it is computed from. */
type Source = { tensor: TorchTensor } | { g: TorchTensor; v: TorchTensor };

interface Interpreted {
  kind: RvcModel['kind'];
  config: RvcSynthConfig;
  declaredVersion: string | null;
  f0: boolean | null;
  epoch: number | null;
  step: number | null;
  info: string | null;
  extra: RvcModel['extra'];
  weights: PickleDict;
}

/** `sha256`: the file's hash when the caller has just computed it (the export cache keys by it), so it is not read twice. */
export async function openRvcModel(file: string, options: { configJson?: string; sha256?: string } = {}): Promise<RvcModel> {
  const hashing = options.sha256 ? Promise.resolve(options.sha256) : sha256File(file);
  // Handled here so a refusal below is not also an unhandled rejection; `await hashing` still throws.
  hashing.catch(() => undefined);
  const checkpoint = await openTorchCheckpoint(file);
  try {
    const parts = interpret(checkpoint.root, file, options);
    const sources = foldedSources(file, parts.weights);
    const model = describeModel(file, parts, sources);
    return new OpenedRvcModel(checkpoint, { ...model, sha256: await hashing, bytes: fs.statSync(file).size }, sources);
  } catch (error) {
    await checkpoint.close();
    throw error;
  }
}

function label(file: string): string {
  return path.basename(file);
}

function refuse(file: string, what: string, code = 'rvc-model'): UserError {
  return new UserError(msg`${label(file)} ${what}.`, code);
}

// ---- which file this is ----

function interpret(root: PickleValue, file: string, options: { configJson?: string }): Interpreted {
  if (!(root instanceof Map)) throw refuse(file, 'is a PyTorch file but not an RVC model (it holds no dict of named parts)');
  const weight = root.get('weight');
  const model = root.get('model');
  if (weight instanceof Map) return interpretSmall(root, weight, file);
  if (model instanceof Map) {
    const stripped = stripModulePrefix(model);
    if (isDiscriminator(stripped)) {
      throw refuse(
        file,
        'is a discriminator checkpoint (D_*.pth); convert with the matching G_*.pth or the small model in assets/weights',
        'rvc-discriminator',
      );
    }
    return interpretG(root, stripped, file, options);
  }
  const keys = [...root.keys()].slice(0, 6).map(String).join(', ');
  throw refuse(file, `is a PyTorch file but not an RVC model (its top-level keys are ${keys || 'none'})`);
}

/** RVC's MultiPeriodDiscriminator keeps its sub-discriminators in `discriminators`. */
function isDiscriminator(weights: PickleDict): boolean {
  return [...weights.keys()].some((k) => typeof k === 'string' && k.startsWith('discriminators.'));
}

/** DataParallel saves `module.`-prefixed names. */
function stripModulePrefix(weights: PickleDict): PickleDict {
  const keys = [...weights.keys()];
  if (!keys.length || !keys.every((k) => typeof k === 'string' && k.startsWith('module.'))) return weights;
  return new Map([...weights].map(([k, v]) => [(k as string).slice('module.'.length), v]));
}

function interpretSmall(root: PickleDict, weights: PickleDict, file: string): Interpreted {
  checkApplioParts(root, file);
  const info = stringOf(root.get('info'));
  const epoch = countOf(root.get('epoch')) ?? epochFromInfo(info);
  const fromName = /_e(\d+)_s(\d+)\.pth$/i.exec(label(file));
  return {
    kind: 'small',
    config: configFromList(root.get('config'), file),
    declaredVersion: declaredVersion(root),
    f0: root.has('f0') ? flagOf(root.get('f0'), file) : null,
    epoch: epoch ?? (fromName ? Number(fromName[1]) : null),
    step: countOf(root.get('step')) ?? (fromName ? Number(fromName[2]) : null),
    info,
    extra: applioExtra(root),
    weights,
  };
}

function interpretG(root: PickleDict, weights: PickleDict, file: string, options: { configJson?: string }): Interpreted {
  const configJson = options.configJson ?? path.join(path.dirname(file), 'config.json');
  const fromName = /^G_(\d+)\.pth$/i.exec(label(file));
  const step = fromName && Number(fromName[1]) !== LATEST_ONLY_STEP ? Number(fromName[1]) : null;
  return {
    kind: 'g-checkpoint',
    config: configFromJson(configJson, file),
    declaredVersion: null,
    f0: null,
    epoch: countOf(root.get('iteration')) ?? null,
    step,
    info: null,
    extra: {},
    weights,
  };
}

/** RVC reads `cpt.get("version", "v1")`: files from before v2 have none. A None leaves it to the weights. */
function declaredVersion(root: PickleDict): string | null {
  if (!root.has('version')) return 'v1';
  const version = root.get('version');
  return version === null ? null : (stringOf(version) ?? String(version));
}

// ---- Applio's additions ----

function applioExtra(root: PickleDict): RvcModel['extra'] {
  const extra: RvcModel['extra'] = {};
  const speakersId = countOf(root.get('speakers_id'));
  if (speakersId !== null) extra.speakersId = speakersId;
  const embedder = stringOf(root.get('embedder_model'));
  if (embedder !== null) extra.embedderModel = embedder;
  const vocoder = stringOf(root.get('vocoder'));
  if (vocoder !== null) extra.vocoder = vocoder;
  const author = stringOf(root.get('author'));
  if (author !== null) extra.author = author;
  return extra;
}

/** RVC Studio's graph is RVC's HiFi-GAN (NSF) decoder fed 768/256-wide HuBERT-base features. */
function checkApplioParts(root: PickleDict, file: string): void {
  const vocoder = stringOf(root.get('vocoder'));
  if (vocoder !== null && vocoder.toLowerCase().replace(/[^a-z0-9]/g, '') !== 'hifigan') {
    throw refuse(file, `uses Applio's ${vocoder} vocoder, which RVC Studio cannot convert yet`, 'rvc-vocoder');
  }
  const embedder = stringOf(root.get('embedder_model'));
  if (embedder !== null && !/^(contentvec|(?:[a-z]+[-_])?hubert[-_]?base)$/i.test(embedder.trim())) {
    throw refuse(
      file,
      `was trained on features of the "${embedder}" embedder; RVC Studio converts only models trained on ContentVec or HuBERT-base features`,
      'rvc-embedder',
    );
  }
}

// ---- the config ----

/** The order of a small model's `config` list (savee's, and models.py's constructor arguments). */
export const CONFIG_FIELDS = [
  'spec_channels',
  'segment_size',
  'inter_channels',
  'hidden_channels',
  'filter_channels',
  'n_heads',
  'n_layers',
  'kernel_size',
  'p_dropout',
  'resblock',
  'resblock_kernel_sizes',
  'resblock_dilation_sizes',
  'upsample_rates',
  'upsample_initial_channel',
  'upsample_kernel_sizes',
  'spk_embed_dim',
  'gin_channels',
  'sr',
] as const satisfies readonly (keyof RvcSynthConfig)[];

function configFromList(value: PickleValue | undefined, file: string): RvcSynthConfig {
  if (!Array.isArray(value)) throw refuse(file, 'is a small model without its config list');
  if (value.length !== CONFIG_FIELDS.length) {
    throw refuse(
      file,
      `has a config list of ${value.length} items where RVC writes ${CONFIG_FIELDS.length}; it is not a model RVC Studio knows`,
      'rvc-config',
    );
  }
  return checkConfig(Object.fromEntries(CONFIG_FIELDS.map((field, i) => [field, value[i]])), file, 'its config');
}

/** RVC's train.py builds the synthesizer from config.json: `model` plus spec and segment sizes from `data`/`train`. */
function configFromJson(configJson: string, file: string): RvcSynthConfig {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(configJson, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'there is none' : errorMessage(error);
    throw new UserError(
      msg`${label(file)} is a G checkpoint, whose synthesizer config is its training's config.json; none could be read at ${configJson} (${reason}).`,
      'rvc-config',
    );
  }
  const { model, data, train } = (parsed ?? {}) as {
    model?: Record<string, unknown>;
    data?: Record<string, unknown>;
    train?: Record<string, unknown>;
  };
  if (!model || !data)
    throw new UserError(
      msg`${configJson} is not an RVC training config (no "model" and "data" sections), so ${label(file)} cannot be read.`,
      'rvc-config',
    );
  const hop = data.hop_length;
  const segment = train?.segment_size;
  return checkConfig(
    {
      ...model,
      spec_channels: typeof data.filter_length === 'number' ? Math.floor(data.filter_length / 2) + 1 : data.filter_length,
      segment_size: typeof hop === 'number' && typeof segment === 'number' && hop > 0 ? Math.floor(segment / hop) : 32,
      sr: data.sampling_rate ?? data.sample_rate, // Applio spells it sample_rate
    },
    file,
    configJson,
  );
}

/** Whole numbers in sane ranges, lists that agree in length: what models.py needs to build the net. */
function checkConfig(raw: Record<string, unknown>, file: string, where: string): RvcSynthConfig {
  const bad = (field: string, why: string): UserError => refuse(file, `cannot be read: ${where} has ${field} ${why}`, 'rvc-config');
  const count = (field: string, min = 1, value: unknown = raw[field]): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > 1 << 20)
      throw bad(field, `= ${JSON.stringify(value)}, not a whole number ≥ ${min}`);
    return value;
  };
  const list = (field: string, value: unknown = raw[field]): number[] => {
    if (!Array.isArray(value) || value.length === 0 || value.length > 64)
      throw bad(field, `= ${JSON.stringify(value)}, not a list of whole numbers`);
    return value.map((item, i) => count(`${field}[${i}]`, 1, item));
  };
  return buildConfig(raw, bad, count, list);
}

function buildConfig(
  raw: Record<string, unknown>,
  bad: (field: string, why: string) => UserError,
  count: (field: string, min?: number) => number,
  list: (field: string, value?: unknown) => number[],
): RvcSynthConfig {
  const resblock = String(raw.resblock);
  if (resblock !== '1' && resblock !== '2') throw bad('resblock', `= ${JSON.stringify(raw.resblock)}, not "1" or "2"`);
  const dilations = raw.resblock_dilation_sizes;
  if (!Array.isArray(dilations)) throw bad('resblock_dilation_sizes', `= ${JSON.stringify(dilations)}, not a list of lists`);
  const p = raw.p_dropout;
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw bad('p_dropout', `= ${JSON.stringify(p)}, not a number in [0, 1)`);
  const config: RvcSynthConfig = {
    spec_channels: count('spec_channels'),
    segment_size: count('segment_size'),
    inter_channels: count('inter_channels', 2),
    hidden_channels: count('hidden_channels'),
    filter_channels: count('filter_channels'),
    n_heads: count('n_heads'),
    n_layers: count('n_layers'),
    kernel_size: count('kernel_size'),
    p_dropout: p,
    resblock,
    resblock_kernel_sizes: list('resblock_kernel_sizes'),
    resblock_dilation_sizes: dilations.map((d, i) => list(`resblock_dilation_sizes[${i}]`, d)),
    upsample_rates: list('upsample_rates'),
    upsample_initial_channel: count('upsample_initial_channel'),
    upsample_kernel_sizes: list('upsample_kernel_sizes'),
    spk_embed_dim: count('spk_embed_dim'),
    gin_channels: count('gin_channels', 0),
    sr: count('sr'),
  };
  checkConsistency(config, bad);
  return config;
}

function checkConsistency(c: RvcSynthConfig, bad: (field: string, why: string) => UserError): void {
  if (c.upsample_kernel_sizes.length !== c.upsample_rates.length)
    throw bad('upsample_kernel_sizes', `of ${c.upsample_kernel_sizes.length} items for ${c.upsample_rates.length} upsample_rates`);
  if (c.resblock_dilation_sizes.length !== c.resblock_kernel_sizes.length) {
    throw bad(
      'resblock_dilation_sizes',
      `of ${c.resblock_dilation_sizes.length} items for ${c.resblock_kernel_sizes.length} resblock_kernel_sizes`,
    );
  }
  const dilationsNeeded = c.resblock === '1' ? 3 : 2;
  if (c.resblock_dilation_sizes.some((d) => d.length < dilationsNeeded))
    throw bad('resblock_dilation_sizes', `with fewer than the ${dilationsNeeded} dilations resblock "${c.resblock}" uses`);
  if (c.hidden_channels % c.n_heads !== 0) throw bad('hidden_channels', `= ${c.hidden_channels}, not divisible by n_heads = ${c.n_heads}`);
  if (c.upsample_initial_channel >> c.upsample_rates.length < 1)
    throw bad('upsample_initial_channel', `= ${c.upsample_initial_channel}, too small for ${c.upsample_rates.length} upsampling stages`);
}

// ---- the weights ----

const NORM_SUFFIXES: readonly [string, 'g' | 'v'][] = [
  ['.weight_g', 'g'],
  ['.weight_v', 'v'],
  ['.parametrizations.weight.original0', 'g'],
  ['.parametrizations.weight.original1', 'v'],
];

/** Folded name → where its data comes from, in state-dict order, enc_q left out. */
function foldedSources(file: string, weights: PickleDict): Map<string, Source> {
  const plain = new Map<string, TorchTensor>();
  const pairs = new Map<string, { g?: TorchTensor; v?: TorchTensor }>();
  const order: string[] = [];
  for (const [key, value] of weights) {
    if (typeof key !== 'string') throw refuse(file, `has a weight under the non-text key ${String(key)}`);
    if (key.includes('enc_q')) continue; // the posterior encoder only trains; savee drops it the same way
    if (!(value instanceof TorchTensor)) throw refuse(file, `has a weight ${key} that is not a tensor`);
    const norm = NORM_SUFFIXES.find(([suffix]) => key.endsWith(suffix));
    const name = norm ? `${key.slice(0, -norm[0].length)}.weight` : key;
    if (!order.includes(name)) order.push(name);
    if (!norm) plain.set(name, value);
    else pairs.set(name, { ...pairs.get(name), [norm[1]]: value });
  }
  return new Map(order.map((name) => [name, sourceOf(file, name, plain.get(name), pairs.get(name))]));
}

function sourceOf(
  file: string,
  name: string,
  tensor: TorchTensor | undefined,
  pair: { g?: TorchTensor; v?: TorchTensor } | undefined,
): Source {
  if (tensor && pair) throw refuse(file, `has ${name} both plain and weight-normed`);
  if (tensor) return { tensor };
  const { g, v } = pair ?? {};
  if (!g || !v) throw refuse(file, `has only half of the weight norm of ${name} (${g ? 'no direction v' : 'no magnitude g'})`);
  if (v.shape.length < 1 || g.numel !== v.shape[0])
    throw refuse(
      file,
      `has a weight norm for ${name} whose magnitude [${g.shape.join(', ')}] does not match its direction [${v.shape.join(', ')}]`,
    );
  return { g, v };
}

function shapeOf(source: Source): readonly number[] {
  return 'tensor' in source ? source.tensor.shape : source.v.shape;
}

function describeModel(
  file: string,
  parts: Interpreted,
  sources: Map<string, Source>,
): Omit<RvcModel, 'sha256' | 'bytes' | 'tensorNames' | 'tensor' | 'close'> {
  const phone = sources.get('enc_p.emb_phone.weight');
  const speakerTable = sources.get('emb_g.weight');
  if (!phone || !speakerTable)
    throw refuse(file, `lacks ${phone ? 'emb_g.weight' : 'enc_p.emb_phone.weight'}, which every RVC synthesizer has`, 'rvc-missing-weight');
  const width = shapeOf(phone)[1] ?? 0;
  const version = FEATURE_SIZES[width];
  if (!version) throw refuse(file, `takes ${width}-wide features; RVC models take 256 (v1) or 768 (v2)`);
  if (parts.declaredVersion !== null && parts.declaredVersion !== version) {
    throw refuse(file, `says it is version ${parts.declaredVersion}, but its weights take ${width}-wide features (${version})`);
  }
  const f0 = parts.f0 ?? sources.has('enc_p.emb_pitch.weight');
  const speakers = shapeOf(speakerTable)[0] ?? 0;
  // As RVC's own loaders do (config[-3] = emb_g rows): the table, not the config, says how many speakers.
  const config = { ...parts.config, spk_embed_dim: speakers };
  if (!SAMPLE_RATES.includes(config.sr))
    throw refuse(file, `is a ${config.sr} Hz model; RVC Studio converts 32000, 40000 and 48000 Hz models`, 'rvc-sample-rate');
  const featureSize = width as 256 | 768;
  const used = checkWeights(file, expectedParameters(config, { f0, featureSize, speakers }), sources);
  for (const name of [...sources.keys()]) if (!used.has(name)) sources.delete(name); // RVC loads with strict=False: extras are ignored
  return {
    file,
    kind: parts.kind,
    version,
    f0,
    sampleRate: config.sr,
    featureSize,
    speakers,
    config,
    epoch: parts.epoch,
    step: parts.step,
    info: parts.info,
    extra: parts.extra,
    parameterCount: [...sources.values()].reduce((n, s) => n + ('tensor' in s ? s.tensor.numel : s.g.numel + s.v.numel), 0),
  };
}

/** Every parameter the config implies must be there with its shape; returns the names used. */
function checkWeights(file: string, expected: Map<string, number[]>, sources: Map<string, Source>): Set<string> {
  const hint = '; the weights do not fit the config, so this is not a model RVC Studio can convert';
  for (const [name, shape] of expected) {
    const source = sources.get(name);
    if (!source) throw refuse(file, `lacks the weight ${name}, which its config implies${hint}`, 'rvc-missing-weight');
    const actual = shapeOf(source);
    if (actual.length !== shape.length || actual.some((d, i) => d !== shape[i])) {
      throw refuse(file, `has ${name} of shape [${actual.join(', ')}] where its config implies [${shape.join(', ')}]${hint}`, 'rvc-shape');
    }
  }
  return new Set(expected.keys());
}

// ---- the opened model ----

class OpenedRvcModel implements RvcModel {
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly kind: RvcModel['kind'];
  readonly version: RvcModel['version'];
  readonly f0: boolean;
  readonly sampleRate: number;
  readonly featureSize: 256 | 768;
  readonly speakers: number;
  readonly config: RvcSynthConfig;
  readonly epoch: number | null;
  readonly step: number | null;
  readonly info: string | null;
  readonly extra: RvcModel['extra'];
  readonly parameterCount: number;
  readonly #checkpoint: TorchCheckpoint;
  readonly #sources: Map<string, Source>;

  constructor(checkpoint: TorchCheckpoint, model: Omit<RvcModel, 'tensorNames' | 'tensor' | 'close'>, sources: Map<string, Source>) {
    this.file = model.file;
    this.sha256 = model.sha256;
    this.bytes = model.bytes;
    this.kind = model.kind;
    this.version = model.version;
    this.f0 = model.f0;
    this.sampleRate = model.sampleRate;
    this.featureSize = model.featureSize;
    this.speakers = model.speakers;
    this.config = model.config;
    this.epoch = model.epoch;
    this.step = model.step;
    this.info = model.info;
    this.extra = model.extra;
    this.parameterCount = model.parameterCount;
    this.#checkpoint = checkpoint;
    this.#sources = sources;
  }

  tensorNames(): string[] {
    return [...this.#sources.keys()];
  }

  async tensor(name: string): Promise<FloatTensor> {
    const source = this.#sources.get(name);
    if (!source) throw new Error(`${label(this.file)} has no parameter ${name}; ask tensorNames() first`);
    if ('tensor' in source) return { shape: [...source.tensor.shape], data: await this.#checkpoint.tensorData(source.tensor) };
    const [g, v] = await Promise.all([this.#checkpoint.tensorData(source.g), this.#checkpoint.tensorData(source.v)]);
    return { shape: [...source.v.shape], data: foldWeightNorm(g, v) };
  }

  close(): Promise<void> {
    return this.#checkpoint.close();
  }
}

/** torch weight_norm with dim=0: row o of the weight is g[o] · v[o] / ‖v[o]‖ (norm accumulated in float64). */
export function foldWeightNorm(g: Float32Array, v: Float32Array): Float32Array {
  const rows = g.length;
  const rowLength = rows === 0 ? 0 : v.length / rows;
  const out = new Float32Array(v.length);
  for (let o = 0; o < rows; o++) {
    const start = o * rowLength;
    let sum = 0;
    for (let i = start; i < start + rowLength; i++) sum += v[i]! * v[i]!;
    const scale = g[o]! / Math.sqrt(sum);
    for (let i = start; i < start + rowLength; i++) out[i] = v[i]! * scale;
  }
  return out;
}

// ---- pickled scalars ----

function stringOf(value: PickleValue | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

function countOf(value: PickleValue | undefined): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function flagOf(value: PickleValue | undefined, file: string): boolean {
  if (value === 0 || value === 1 || typeof value === 'boolean') return Boolean(value);
  if (value === '0' || value === '1') return value === '1';
  throw refuse(file, `has f0 = ${String(value)}, neither 0 nor 1`);
}
