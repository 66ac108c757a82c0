/**
 * The contract between the inference panel host (src/extension/panels/inferencePanel*.ts) and its
 * webview (webviews/inference/). The host runs `parseInferenceFromWebview` on every message: the
 * webview is untrusted, so shapes and ranges are checked here and paths are confined by the host.
 */
import {
  CONVERT_DEFAULTS,
  CONVERT_RANGES,
  RANGED_PARAMS,
  rangeProblem,
  type ConvertProgress,
  type ConvertResult,
  type ConvertStage,
  type F0Estimator,
  type RangedParam,
} from './inferenceWorkerProtocol.ts';
import { checkCorrelation } from './messageHandler.ts';
import { mergeStrings } from './panelStrings.ts';

/**
 * The pitch methods the panel runs: harvest (WORLD) is not built in yet and runs only from a
 * recorded f0 on the CLI (`infer --f0-raw`), so the panel shows it disabled, with the reason.
 */
export const PANEL_F0_METHODS = ['yin', 'rmvpe'] as const satisfies readonly F0Estimator[];
export type PanelF0Method = (typeof PANEL_F0_METHODS)[number];
/** RVC's methods the panel shows but cannot run yet. */
export const UNAVAILABLE_F0_METHODS = ['harvest'] as const satisfies readonly F0Estimator[];

/** The methods the filter radius acts on: RVC median-filters harvest's f0 only (pipeline.py). */
export const FILTERED_F0_METHODS: readonly F0Estimator[] = ['harvest'];

/** What the user sets in the panel: RVC's vc_single parameters plus the files. */
export interface PanelConvertParams {
  modelPath: string;
  inputPath: string;
  contentVecPath: string;
  indexPath: string | null;
  f0Method: PanelF0Method;
  rmvpePath: string | null;
  /** RVC's optional "F0 curve file" (`time,f0` lines); null = none. */
  f0CurvePath: string | null;
  transpose: number;
  indexRate: number;
  filterRadius: number;
  rmsMixRate: number;
  protect: number;
  resampleSr: number;
  sid: number;
  /** 0 = from the model's sidecar or training. */
  modelSampleRate: number;
}

/** The converter's ranges, [min, max, step]: one definition (inferenceWorkerProtocol.ts) for the panel, this validator and checkParams. */
export const PARAM_RANGES = CONVERT_RANGES;
export { RANGED_PARAMS, rangeProblem, type RangedParam };
export const MODEL_SAMPLE_RATE_CHOICES = [0, 32000, 40000, 48000] as const;

export const PANEL_DEFAULTS: PanelConvertParams = {
  modelPath: '',
  inputPath: '',
  contentVecPath: '',
  indexPath: CONVERT_DEFAULTS.indexPath,
  f0Method: 'yin',
  rmvpePath: CONVERT_DEFAULTS.rmvpePath,
  f0CurvePath: CONVERT_DEFAULTS.f0CurvePath,
  transpose: CONVERT_DEFAULTS.transpose,
  indexRate: CONVERT_DEFAULTS.indexRate,
  filterRadius: CONVERT_DEFAULTS.filterRadius,
  rmsMixRate: CONVERT_DEFAULTS.rmsMixRate,
  protect: CONVERT_DEFAULTS.protect,
  resampleSr: CONVERT_DEFAULTS.resampleSr,
  sid: CONVERT_DEFAULTS.sid,
  modelSampleRate: 0,
};

export type BrowseField = 'model' | 'index' | 'contentVec' | 'rmvpe' | 'f0Curve' | 'input' | 'folder';
export const BROWSE_FIELDS: readonly BrowseField[] = ['model', 'index', 'contentVec', 'rmvpe', 'f0Curve', 'input', 'folder'];

/** An ONNX model the registry knows, with the training's added_*.index when there is one. */
export interface ModelOption {
  path: string;
  label: string;
  trainingId: string | null;
  suggestedIndex: string | null;
  /** false for a no-pitch model (the panel hides the pitch controls); null when not known. */
  usesPitch?: boolean | null;
  /** The training's or voice's RVC version, which picks the ContentVec (v1 → 256/L9, v2 → 768/L12); null when not known. */
  version?: 'v1' | 'v2' | null;
}

/** The conversion models the host can fetch (the catalogue's ids, src/core/models/auxModels.ts). */
export const AUX_IDS = ['contentvec-v2', 'contentvec-v1', 'rmvpe'] as const;
export type AuxId = (typeof AUX_IDS)[number];

/** A conversion model the chosen voice (ContentVec) or pitch method (RMVPE) needs: its cached file, or null when missing. */
export interface AuxNeed {
  id: AuxId;
  /** "ContentVec (v2)". */
  label: string;
  fileName: string;
  /** For "Download 360 MB". */
  megabytes: number;
  path: string | null;
}

export interface HistoryRow {
  id: string;
  status: string;
  modelPath: string | null;
  inputPath: string;
  outputPath: string | null;
  createdAt: number;
  costMs: number | null;
  errorMsg: string | null;
}

export type Presets = Record<string, PanelConvertParams>;

/**
 * Every string the inference panel shows, in English: what the webview renders until init brings
 * the host's translation (src/extension/panels/panelStrings.ts fills the same shape with l10n.t).
 * `{0}` … are filled in by the webview (formatString, ./panelStrings.ts).
 */
export const INFERENCE_STRINGS = {
  labels: {
    transpose: 'Transpose (semitones; 12 = one octave)',
    indexRate: 'Search feature ratio (index rate)',
    filterRadius: 'Median filter radius (harvest only; ≥ 3 applies a 3-point median)',
    rmsMixRate: 'Volume envelope mix (rms mix rate)',
    protect: 'Protect voiceless consonants (0.5 = off)',
    resampleSr: 'Resample output (0 = the model’s rate)',
    sid: 'Speaker id',
  } satisfies Record<RangedParam, string>,
  f0Methods: {
    yin: 'yin — built in, no model file; not an RVC method (its pitch differs from RVC’s)',
    rmvpe: 'rmvpe — RVC’s default; needs rmvpe.onnx',
  } satisfies Record<PanelF0Method, string>,
  /** Shown disabled: why the panel cannot run it. */
  unavailableF0Methods: {
    harvest: 'harvest — not built in yet (the CLI runs it from a recorded f0: infer --f0-raw)',
  } satisfies Record<(typeof UNAVAILABLE_F0_METHODS)[number], string>,
  stages: {
    export: 'exporting the model',
    load: 'loading the models',
    decode: 'reading the input',
    resample: '16 kHz, high-pass and padding',
    features: 'ContentVec features',
    f0: 'pitch',
    index: 'index search',
    synthesis: 'synthesis',
    post: 'writing the output',
  } satisfies Record<ConvertStage, string>,
  /** Why Convert cannot run now (its tooltip and the line beside it). */
  why: {
    busy: 'Converting…',
    model: 'Choose a model',
    contentVec: 'Choose ContentVec',
    input: 'Choose an input file',
    folder: 'Choose a batch folder',
    rmvpe: 'Choose an RMVPE model, or pick yin',
    /** {0}: the conversion model, "ContentVec (v2)". */
    missing: '{0} is missing: download it or use a local file',
  },
  files: 'Files',
  model: 'Model (.pth or .onnx)',
  choose: '— choose —',
  browse: 'Browse…',
  index: 'Feature index',
  indexPlaceholder: 'none (added_*.index)',
  contentVec: 'ContentVec model',
  input: 'Input audio',
  modelSampleRate: 'Model sample rate',
  fromModel: 'from the model',
  parameters: 'Parameters',
  f0Method: 'Pitch extraction (f0 method)',
  rmvpe: 'RMVPE model',
  f0Curve: 'F0 curve file (optional; replaces the pitch)',
  f0CurvePlaceholder: 'none (time,f0 lines)',
  /** {0}: the conversion model. */
  missing: '{0} missing —',
  /** {0}: its size in MB. */
  download: 'Download {0} MB',
  useLocalFile: 'Use a local file',
  fetching: 'Working… (progress and Cancel in the notification)',
  loadPreset: 'Load preset…',
  presetName: 'preset name',
  savePreset: 'Save preset',
  convert: 'Convert',
  cancel: 'Cancel',
  /** {0}: file, {1}/{2}: its number and the count, {3}: the stage. */
  converting: 'Converting {0} ({1}/{2}): {3}',
  batchFolder: 'Batch folder',
  convertFolder: 'Convert folder',
  /** {0}: converted, {1}: failed. */
  batchDone: 'Batch done: {0} converted, {1} failed.',
  /** {0}: output file, {1}: input seconds, {2}: sample rate, {3}: time taken in ms. */
  result: '{0}: {1} s in, {2} Hz, {3} ms',
  reveal: 'Reveal',
  revealTitle: 'Show the converted file in the file manager',
  inputAudio: 'Input',
  outputAudio: 'Output',
  history: 'History',
  /** {0}: milliseconds. */
  milliseconds: '{0} ms',
  historyError: 'error',
  rerun: 'Re-run',
};

export type InferenceStrings = typeof INFERENCE_STRINGS;

/** The host's strings as the webview uses them: every key present, the English default where one is missing or malformed. */
export function parseInferenceStrings(raw: unknown): InferenceStrings {
  return mergeStrings(INFERENCE_STRINGS, raw);
}

/**
 * Requests carry `messageId` (src/protocol/messageHandler.ts): the host answers each with messages
 * `inReplyTo` it and always ends it with `done`, so the panel never waits for nothing. `ready`,
 * `cancel` and `reveal` are events.
 */
export type FromInferenceWebview =
  | { type: 'ready' }
  | { type: 'convert'; messageId: number; params: PanelConvertParams }
  | { type: 'batch'; messageId: number; params: PanelConvertParams; folder: string }
  | { type: 'cancel' }
  | { type: 'rerun'; messageId: number; taskId: string }
  | { type: 'browse'; messageId: number; field: BrowseField }
  | { type: 'savePreset'; messageId: number; name: string; params: PanelConvertParams }
  | { type: 'deletePreset'; messageId: number; name: string }
  /** Which ContentVec (by the model's version) and RMVPE (for method rmvpe) this model needs, and whether they are cached. */
  | { type: 'needs'; messageId: number; modelPath: string; f0Method: PanelF0Method }
  /** Download a missing conversion model, or take a local copy (picked, then verified); answered with `picked`. */
  | { type: 'fetchAux'; messageId: number; id: AuxId; source: 'download' | 'local' }
  /** Show a converted file in the OS file manager (the host only reveals outputs it wrote). */
  | { type: 'reveal'; path: string };

export type InferenceRequest = Extract<FromInferenceWebview, { messageId: number }>;

/** Answers carry `inReplyTo` (the request's messageId); without it a message is the host's own news. */
export type ToInferenceWebview =
  /** `strings`: every string the panel shows, in the user's language; the webview checks it with parseInferenceStrings. */
  | {
      type: 'init';
      models: ModelOption[];
      defaults: PanelConvertParams;
      presets: Presets;
      history: HistoryRow[];
      strings: InferenceStrings;
    }
  | { type: 'picked'; field: BrowseField; path: string; inReplyTo?: number }
  | { type: 'progress'; progress: ConvertProgress; file: string; index: number; count: number; inReplyTo?: number }
  | { type: 'result'; taskId: string | null; result: ConvertResult; inputUri: string; outputUri: string; inReplyTo?: number }
  | { type: 'batchDone'; converted: number; failed: number; inReplyTo?: number }
  | { type: 'error'; message: string; inReplyTo?: number }
  | { type: 'history'; rows: HistoryRow[]; inReplyTo?: number }
  | { type: 'presets'; presets: Presets; inReplyTo?: number }
  | { type: 'needs'; modelPath: string; contentVec: AuxNeed; rmvpe: AuxNeed | null; inReplyTo?: number }
  /** "Convert with this Model" on an open panel: the fresh model list, that model and its index chosen. */
  | { type: 'select'; models: ModelOption[]; modelPath: string; indexPath: string | null }
  /** The request `inReplyTo` has ended (after its result or error): the panel leaves its busy state. */
  | { type: 'done'; inReplyTo: number };

export type InferenceParseResult = { ok: true; message: FromInferenceWebview } | { ok: false; reason: string };

const MAX_PATH = 4096;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPath = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_PATH && !v.includes('\0');

function onlyKeys(raw: Record<string, unknown>, keys: readonly string[]): string | null {
  const extra = Object.keys(raw).filter((k) => !keys.includes(k));
  return extra.length ? `unexpected field(s) ${extra.join(', ')}` : null;
}

const PARAM_KEYS = Object.keys(PANEL_DEFAULTS) as (keyof PanelConvertParams)[];

/** Checks one parameter set: every field present, in RVC's range; returns the reason or the params. */
export function parseConvertParams(raw: unknown): PanelConvertParams | string {
  if (!isObj(raw)) return 'params is not an object';
  const extra = onlyKeys(raw, PARAM_KEYS);
  if (extra) return extra;
  for (const key of ['modelPath', 'inputPath', 'contentVecPath'] as const) {
    if (!isPath(raw[key])) return `${key} must be a non-empty path`;
  }
  for (const key of ['indexPath', 'rmvpePath', 'f0CurvePath'] as const) {
    if (raw[key] !== null && !isPath(raw[key])) return `${key} must be a path or null`;
  }
  if (!PANEL_F0_METHODS.includes(raw['f0Method'] as PanelF0Method)) return `f0Method must be one of ${PANEL_F0_METHODS.join(', ')}`;
  if (raw['f0Method'] === 'rmvpe' && raw['rmvpePath'] === null) return 'f0Method rmvpe needs rmvpePath';
  for (const key of RANGED_PARAMS) {
    const problem = rangeProblem(key, raw[key]);
    if (problem) return `${key} ${problem}`;
  }
  if (!MODEL_SAMPLE_RATE_CHOICES.includes(raw['modelSampleRate'] as 0))
    return `modelSampleRate must be one of ${MODEL_SAMPLE_RATE_CHOICES.join(', ')}`;
  return raw as unknown as PanelConvertParams;
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= 100;

export function parseInferenceFromWebview(raw: unknown): InferenceParseResult {
  const fail = (reason: string): InferenceParseResult => ({ ok: false, reason });
  if (!isObj(raw)) return fail('message is not an object');
  const type = raw['type'];
  const keys: Record<string, readonly string[]> = {
    ready: ['type'],
    cancel: ['type'],
    reveal: ['type', 'path'],
    convert: ['type', 'messageId', 'params'],
    batch: ['type', 'messageId', 'params', 'folder'],
    rerun: ['type', 'messageId', 'taskId'],
    browse: ['type', 'messageId', 'field'],
    savePreset: ['type', 'messageId', 'name', 'params'],
    deletePreset: ['type', 'messageId', 'name'],
    needs: ['type', 'messageId', 'modelPath', 'f0Method'],
    fetchAux: ['type', 'messageId', 'id', 'source'],
  };
  if (typeof type !== 'string' || !Object.hasOwn(keys, type)) return fail(`unknown message type ${JSON.stringify(type)}`);
  const extra = onlyKeys(raw, keys[type]!);
  if (extra) return fail(extra);
  const isRequest = keys[type]!.includes('messageId');
  const badId = isRequest ? checkCorrelation(raw, 'messageId', true) : null;
  if (badId) return fail(badId);
  const messageId = raw['messageId'] as number;
  switch (type) {
    case 'ready':
    case 'cancel':
      return { ok: true, message: { type } };
    case 'reveal':
      return isPath(raw['path']) ? { ok: true, message: { type, path: raw['path'] } } : fail('path must be a path');
    case 'convert':
    case 'savePreset':
    case 'batch': {
      // A batch converts every file of the folder: the single input path is not used.
      const params = parseConvertParams(
        type === 'batch' && isObj(raw['params']) ? { ...raw['params'], inputPath: raw['params']['inputPath'] || '-' } : raw['params'],
      );
      if (typeof params === 'string') return fail(params);
      if (type === 'convert') return { ok: true, message: { type, messageId, params } };
      if (type === 'batch')
        return isPath(raw['folder'])
          ? { ok: true, message: { type, messageId, params, folder: raw['folder'] } }
          : fail('folder must be a path');
      return isName(raw['name'])
        ? { ok: true, message: { type, messageId, name: (raw['name'] as string).trim(), params } }
        : fail('preset name must be 1..100 characters');
    }
    case 'deletePreset':
      return isName(raw['name'])
        ? { ok: true, message: { type, messageId, name: raw['name'] } }
        : fail('preset name must be 1..100 characters');
    case 'rerun':
      return typeof raw['taskId'] === 'string' && /^[0-9a-f-]{1,64}$/i.test(raw['taskId'])
        ? { ok: true, message: { type, messageId, taskId: raw['taskId'] } }
        : fail('taskId must be an id');
    case 'browse':
      return BROWSE_FIELDS.includes(raw['field'] as BrowseField)
        ? { ok: true, message: { type, messageId, field: raw['field'] as BrowseField } }
        : fail('unknown browse field');
    case 'needs':
      if (!isPath(raw['modelPath'])) return fail('modelPath must be a path');
      return PANEL_F0_METHODS.includes(raw['f0Method'] as PanelF0Method)
        ? { ok: true, message: { type, messageId, modelPath: raw['modelPath'], f0Method: raw['f0Method'] as PanelF0Method } }
        : fail(`f0Method must be one of ${PANEL_F0_METHODS.join(', ')}`);
    case 'fetchAux':
      if (!AUX_IDS.includes(raw['id'] as AuxId)) return fail(`id must be one of ${AUX_IDS.join(', ')}`);
      return raw['source'] === 'download' || raw['source'] === 'local'
        ? { ok: true, message: { type, messageId, id: raw['id'] as AuxId, source: raw['source'] } }
        : fail('source must be download or local');
    default:
      return fail(`unknown message type ${JSON.stringify(type)}`);
  }
}

function isAuxNeed(v: unknown): v is AuxNeed {
  return (
    isObj(v) &&
    AUX_IDS.includes(v['id'] as AuxId) &&
    typeof v['label'] === 'string' &&
    typeof v['megabytes'] === 'number' &&
    (v['path'] === null || isPath(v['path']))
  );
}

/** The host's messages are checked by the webview too: a malformed one is ignored, never rendered. */
export function isToInferenceWebview(raw: unknown): raw is ToInferenceWebview {
  if (!isObj(raw)) return false;
  if (checkCorrelation(raw, 'inReplyTo', raw['type'] === 'done')) return false;
  switch (raw['type']) {
    case 'done':
      return true;
    case 'init':
      return Array.isArray(raw['models']) && isObj(raw['defaults']) && isObj(raw['presets']) && Array.isArray(raw['history']);
    case 'picked':
      return BROWSE_FIELDS.includes(raw['field'] as BrowseField) && isPath(raw['path']);
    case 'progress':
      return (
        isObj(raw['progress']) &&
        typeof raw['progress']['done'] === 'number' &&
        typeof raw['progress']['total'] === 'number' &&
        typeof raw['file'] === 'string'
      );
    case 'result':
      return isObj(raw['result']) && typeof raw['outputUri'] === 'string' && typeof raw['inputUri'] === 'string';
    case 'batchDone':
      return typeof raw['converted'] === 'number' && typeof raw['failed'] === 'number';
    case 'error':
      return typeof raw['message'] === 'string';
    case 'history':
      return Array.isArray(raw['rows']);
    case 'presets':
      return isObj(raw['presets']);
    case 'needs':
      return typeof raw['modelPath'] === 'string' && isAuxNeed(raw['contentVec']) && (raw['rmvpe'] === null || isAuxNeed(raw['rmvpe']));
    case 'select':
      return Array.isArray(raw['models']) && isPath(raw['modelPath']) && (raw['indexPath'] === null || isPath(raw['indexPath']));
    default:
      return false;
  }
}
