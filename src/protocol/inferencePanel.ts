/**
 * The contract between the inference panel host (src/extension/panels/inferencePanel*.ts) and its
 * webview (webviews/inference/). The host runs `parseInferenceFromWebview` on every message: the
 * webview is untrusted, so shapes and ranges are checked here and paths are confined by the host.
 */
import { CONVERT_DEFAULTS, F0_ESTIMATORS, type ConvertProgress, type ConvertResult, type F0Estimator } from './inferenceWorkerProtocol.ts';

/** What the user sets in the panel: RVC's vc_single parameters plus the files. */
export interface PanelConvertParams {
  modelPath: string;
  inputPath: string;
  contentVecPath: string;
  indexPath: string | null;
  f0Method: F0Estimator;
  rmvpePath: string | null;
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

/** RVC's ranges (rvc-webui.md §1.7): [min, max, step]. */
export const PARAM_RANGES = {
  transpose: [-24, 24, 1],
  indexRate: [0, 1, 0.01],
  filterRadius: [0, 7, 1],
  rmsMixRate: [0, 1, 0.01],
  protect: [0, 0.5, 0.01],
  resampleSr: [0, 48000, 1],
  sid: [0, 2333, 1],
} as const;
export type RangedParam = keyof typeof PARAM_RANGES;
export const MODEL_SAMPLE_RATE_CHOICES = [0, 32000, 40000, 48000] as const;

export const PANEL_DEFAULTS: PanelConvertParams = {
  modelPath: '',
  inputPath: '',
  contentVecPath: '',
  indexPath: CONVERT_DEFAULTS.indexPath,
  f0Method: CONVERT_DEFAULTS.f0Method,
  rmvpePath: CONVERT_DEFAULTS.rmvpePath,
  transpose: CONVERT_DEFAULTS.transpose,
  indexRate: CONVERT_DEFAULTS.indexRate,
  filterRadius: CONVERT_DEFAULTS.filterRadius,
  rmsMixRate: CONVERT_DEFAULTS.rmsMixRate,
  protect: CONVERT_DEFAULTS.protect,
  resampleSr: CONVERT_DEFAULTS.resampleSr,
  sid: CONVERT_DEFAULTS.sid,
  modelSampleRate: 0,
};

export type BrowseField = 'model' | 'index' | 'contentVec' | 'rmvpe' | 'input' | 'folder';
export const BROWSE_FIELDS: readonly BrowseField[] = ['model', 'index', 'contentVec', 'rmvpe', 'input', 'folder'];

/** An ONNX model the registry knows, with the training's added_*.index when there is one. */
export interface ModelOption {
  path: string;
  label: string;
  trainingId: string | null;
  suggestedIndex: string | null;
  /** false for a no-pitch model (the panel hides the pitch controls); null when not known. */
  usesPitch?: boolean | null;
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

export type FromInferenceWebview =
  | { type: 'ready' }
  | { type: 'convert'; params: PanelConvertParams }
  | { type: 'batch'; params: PanelConvertParams; folder: string }
  | { type: 'cancel' }
  | { type: 'rerun'; taskId: string }
  | { type: 'browse'; field: BrowseField }
  | { type: 'savePreset'; name: string; params: PanelConvertParams }
  | { type: 'deletePreset'; name: string };

export type ToInferenceWebview =
  | { type: 'init'; models: ModelOption[]; defaults: PanelConvertParams; presets: Presets; history: HistoryRow[] }
  | { type: 'picked'; field: BrowseField; path: string }
  | { type: 'progress'; progress: ConvertProgress; file: string; index: number; count: number }
  | { type: 'result'; taskId: string | null; result: ConvertResult; inputUri: string; outputUri: string }
  | { type: 'batchDone'; converted: number; failed: number }
  | { type: 'error'; message: string }
  | { type: 'history'; rows: HistoryRow[] }
  | { type: 'presets'; presets: Presets };

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
  for (const key of ['indexPath', 'rmvpePath'] as const) {
    if (raw[key] !== null && !isPath(raw[key])) return `${key} must be a path or null`;
  }
  if (!F0_ESTIMATORS.includes(raw['f0Method'] as F0Estimator)) return `f0Method must be one of ${F0_ESTIMATORS.join(', ')}`;
  if (raw['f0Method'] === 'rmvpe' && raw['rmvpePath'] === null) return 'f0Method rmvpe needs rmvpePath';
  for (const key of Object.keys(PARAM_RANGES) as RangedParam[]) {
    const [min, max, step] = PARAM_RANGES[key];
    const v = raw[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return `${key} must be a number in [${min}, ${max}]`;
    if (step === 1 && !Number.isInteger(v)) return `${key} must be a whole number`;
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
    convert: ['type', 'params'],
    batch: ['type', 'params', 'folder'],
    rerun: ['type', 'taskId'],
    browse: ['type', 'field'],
    savePreset: ['type', 'name', 'params'],
    deletePreset: ['type', 'name'],
  };
  if (typeof type !== 'string' || !Object.hasOwn(keys, type)) return fail(`unknown message type ${JSON.stringify(type)}`);
  const extra = onlyKeys(raw, keys[type]!);
  if (extra) return fail(extra);
  switch (type) {
    case 'ready':
    case 'cancel':
      return { ok: true, message: { type } };
    case 'convert':
    case 'savePreset':
    case 'batch': {
      // A batch converts every file of the folder: the single input path is not used.
      const params = parseConvertParams(
        type === 'batch' && isObj(raw['params']) ? { ...raw['params'], inputPath: raw['params']['inputPath'] || '-' } : raw['params'],
      );
      if (typeof params === 'string') return fail(params);
      if (type === 'convert') return { ok: true, message: { type, params } };
      if (type === 'batch')
        return isPath(raw['folder']) ? { ok: true, message: { type, params, folder: raw['folder'] } } : fail('folder must be a path');
      return isName(raw['name'])
        ? { ok: true, message: { type, name: (raw['name'] as string).trim(), params } }
        : fail('preset name must be 1..100 characters');
    }
    case 'deletePreset':
      return isName(raw['name']) ? { ok: true, message: { type, name: raw['name'] } } : fail('preset name must be 1..100 characters');
    case 'rerun':
      return typeof raw['taskId'] === 'string' && /^[0-9a-f-]{1,64}$/i.test(raw['taskId'])
        ? { ok: true, message: { type, taskId: raw['taskId'] } }
        : fail('taskId must be an id');
    case 'browse':
      return BROWSE_FIELDS.includes(raw['field'] as BrowseField)
        ? { ok: true, message: { type, field: raw['field'] as BrowseField } }
        : fail('unknown browse field');
    default:
      return fail(`unknown message type ${JSON.stringify(type)}`);
  }
}

/** The host's messages are checked by the webview too: a malformed one is ignored, never rendered. */
export function isToInferenceWebview(raw: unknown): raw is ToInferenceWebview {
  if (!isObj(raw)) return false;
  switch (raw['type']) {
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
    default:
      return false;
  }
}
