/**
 * The contract between the inference panel host (src/extension/panels/inferencePanel*.ts) and its
 * webview (webviews/inference/). Every message is declared once, as a schema (./schema.ts), which
 * gives its type and its runtime check. The host runs `parseInferenceFromWebview` on every
 * message: the webview is untrusted, so shapes and ranges are checked here and paths are confined
 * by the host. The webview checks the host's messages with `isToInferenceWebview`.
 */
import { parseInferenceStrings } from './inferencePanelStrings.ts';
import {
  CONVERT_DEFAULTS,
  CONVERT_RANGES,
  RANGED_PARAMS,
  rangeProblem,
  type ConvertParams,
  type ConvertProgress,
  type ConvertResult,
  type RangedParam,
} from './inferenceWorkerProtocol.ts';
import { inReplyToField, messageIdField } from './messageHandler.ts';
import { PANEL_F0_METHODS } from './panelF0Methods.ts';
import {
  anyNum,
  arrayOf,
  before,
  Invalid,
  isInvalid,
  isObj,
  literal,
  map,
  mergeable,
  mustBe,
  nullable,
  object,
  oneOf,
  optional,
  passes,
  path,
  refine,
  str,
  union,
  unknownValue,
  withMessage,
  type Infer,
  type Schema,
} from './schema.ts';

export { INFERENCE_STRINGS, parseInferenceStrings, type InferenceStrings } from './inferencePanelStrings.ts';

export { FILTERED_F0_METHODS, PANEL_F0_METHODS, UNAVAILABLE_F0_METHODS, type PanelF0Method } from './panelF0Methods.ts';

/** The converter's ranges, [min, max, step]: one definition (inferenceWorkerProtocol.ts) for the panel, this validator and checkParams. */
export const PARAM_RANGES = CONVERT_RANGES;
export { RANGED_PARAMS, rangeProblem, type RangedParam };
export const MODEL_SAMPLE_RATE_CHOICES = [0, 32000, 40000, 48000] as const;

/** A converter parameter in its range (the words are rangeProblem's, so the panel and checkParams agree). */
const ranged = (key: RangedParam): Schema<number> => ({
  read: (v) => {
    const problem = rangeProblem(key, v);
    return problem === null && typeof v === 'number' ? v : new Invalid(problem ?? 'must be a number');
  },
});
const filePath = () => mustBe(path(), 'a non-empty path');
const pathOrNull = () => mustBe(nullable(path()), 'a path or null');
const f0Methods = `must be one of ${PANEL_F0_METHODS.join(', ')}`;

/**
 * What the user sets in the panel: RVC's vc_single parameters plus the files. Each field is a
 * ConvertParams field (`satisfies` below keeps the two tied), checked strictly: the panel runs yin
 * and rmvpe only, the F0 curve file is always given (null = none), the model rate is 0 (from the
 * model's sidecar or training) or one of RVC's.
 */
const PANEL_PARAM_FIELDS = {
  modelPath: filePath(),
  inputPath: filePath(),
  contentVecPath: filePath(),
  indexPath: pathOrNull(),
  rmvpePath: pathOrNull(),
  /** RVC's optional "F0 curve file" (`time,f0` lines); null = none. */
  f0CurvePath: pathOrNull(),
  f0Method: withMessage(oneOf(PANEL_F0_METHODS), `f0Method ${f0Methods}`),
  transpose: ranged('transpose'),
  indexRate: ranged('indexRate'),
  filterRadius: ranged('filterRadius'),
  rmsMixRate: ranged('rmsMixRate'),
  protect: ranged('protect'),
  resampleSr: ranged('resampleSr'),
  sid: ranged('sid'),
  /** 0 = from the model's sidecar or training. */
  modelSampleRate: withMessage(
    map(oneOf(MODEL_SAMPLE_RATE_CHOICES), (rate): number => rate),
    `modelSampleRate must be one of ${MODEL_SAMPLE_RATE_CHOICES.join(', ')}`,
  ),
} satisfies { [K in keyof ConvertParams]?: Schema<ConvertParams[K]> };

const PANEL_PARAMS = refine(object(PANEL_PARAM_FIELDS, { notObject: 'params is not an object' }), (p) =>
  p.f0Method === 'rmvpe' && p.rmvpePath === null ? 'f0Method rmvpe needs rmvpePath' : null,
);
export type PanelConvertParams = Infer<typeof PANEL_PARAMS>;

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

/** Checks one parameter set: every field present, in RVC's range; returns the reason or the params. */
export function parseConvertParams(raw: unknown): PanelConvertParams | string {
  const read = PANEL_PARAMS.read(raw);
  return isInvalid(read) ? read.reason : read;
}

const BROWSE = ['model', 'index', 'contentVec', 'rmvpe', 'f0Curve', 'input', 'folder'] as const;
export type BrowseField = (typeof BROWSE)[number];
export const BROWSE_FIELDS: readonly BrowseField[] = BROWSE;

/** The host's messages may come from another version: fields they add are ignored. */
const loose = { loose: true };

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
const AUX_NEED = object(
  {
    id: oneOf(AUX_IDS),
    /** "ContentVec (v2)". */
    label: str(),
    fileName: str(),
    /** For "Download 360 MB". */
    megabytes: anyNum(),
    path: nullable(path()),
  },
  loose,
);
export type AuxNeed = Infer<typeof AUX_NEED>;

/** A row of the conversion history (src/core/store/inferenceHistory.ts) as the panel lists it. */
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

// ---- webview → host -------------------------------------------------------------------------

const presetName = withMessage(
  refine(str({ max: 100 }), (name) => (name.trim().length > 0 ? null : 'empty')),
  'preset name must be 1..100 characters',
);
/** A batch converts every file of the folder: the single input path is not used. */
const batchParams = before((raw) => (isObj(raw) ? { ...raw, inputPath: raw['inputPath'] || '-' } : raw), PANEL_PARAMS);

/**
 * Requests carry `messageId` (src/protocol/messageHandler.ts): the host answers each with messages
 * `inReplyTo` it and always ends it with `done`, so the panel never waits for nothing. `ready`,
 * `cancel` and `reveal` are events.
 */
const FROM_INFERENCE_WEBVIEW = union({
  ready: object({ type: literal('ready') }),
  convert: object({ type: literal('convert'), messageId: messageIdField(), params: PANEL_PARAMS }),
  batch: object({
    type: literal('batch'),
    messageId: messageIdField(),
    params: batchParams,
    folder: withMessage(path(), 'folder must be a path'),
  }),
  /** Stops the conversion running now, after the chunk in flight. */
  cancel: object({ type: literal('cancel') }),
  rerun: object({
    type: literal('rerun'),
    messageId: messageIdField(),
    taskId: withMessage(str({ pattern: /^[0-9a-f-]{1,64}$/i }), 'taskId must be an id'),
  }),
  browse: object({ type: literal('browse'), messageId: messageIdField(), field: withMessage(oneOf(BROWSE), 'unknown browse field') }),
  savePreset: object({
    type: literal('savePreset'),
    messageId: messageIdField(),
    params: PANEL_PARAMS,
    name: map(presetName, (name) => name.trim()),
  }),
  deletePreset: object({ type: literal('deletePreset'), messageId: messageIdField(), name: presetName }),
  /** Which ContentVec (by the model's version) and RMVPE (for method rmvpe) this model needs, and whether they are cached. */
  needs: object({
    type: literal('needs'),
    messageId: messageIdField(),
    modelPath: withMessage(path(), 'modelPath must be a path'),
    f0Method: withMessage(oneOf(PANEL_F0_METHODS), `f0Method ${f0Methods}`),
  }),
  /** Download a missing conversion model, or take a local copy (picked, then verified); answered with `picked`. */
  fetchAux: object({
    type: literal('fetchAux'),
    messageId: messageIdField(),
    id: withMessage(oneOf(AUX_IDS), `id must be one of ${AUX_IDS.join(', ')}`),
    source: withMessage(oneOf(['download', 'local']), 'source must be download or local'),
  }),
  /** Show a converted file in the OS file manager (the host only reveals outputs it wrote). */
  reveal: object({ type: literal('reveal'), path: withMessage(path(), 'path must be a path') }),
});
export type FromInferenceWebview = Infer<typeof FROM_INFERENCE_WEBVIEW>;

export type InferenceRequest = Extract<FromInferenceWebview, { messageId: number }>;

export type InferenceParseResult = { ok: true; message: FromInferenceWebview } | { ok: false; reason: string };

export function parseInferenceFromWebview(raw: unknown): InferenceParseResult {
  const read = FROM_INFERENCE_WEBVIEW.read(raw);
  return isInvalid(read) ? { ok: false, reason: read.reason } : { ok: true, message: read };
}

// ---- host → webview -------------------------------------------------------------------------

/** Answers carry `inReplyTo` (the request's messageId); without it a message is the host's own news. */
const answer = () => optional(inReplyToField());
/**
 * The webview's check goes as deep as what it renders needs: lists and the data it merges with its
 * own defaults (models, history rows, saved presets, a result) are checked for being there in the
 * right kind, so a host of another version, with a field more or less, still gets through.
 */
const models = () => arrayOf(mergeable<ModelOption>());
const rows = () => arrayOf(mergeable<HistoryRow>());
const progress = refine(mergeable<ConvertProgress>(), (p) =>
  typeof p.done === 'number' && typeof p.total === 'number' ? null : 'bad progress',
);
const TO_INFERENCE_WEBVIEW = union({
  /** `strings`: every string the panel shows, in the user's language; the webview checks it with parseInferenceStrings. */
  init: object(
    {
      type: literal('init'),
      models: models(),
      // Merged with the webview's own defaults: saved presets of older versions lack newer fields.
      defaults: mergeable<PanelConvertParams>(),
      presets: mergeable<Presets>(),
      history: rows(),
      strings: map(unknownValue(), parseInferenceStrings),
    },
    loose,
  ),
  picked: object({ type: literal('picked'), field: oneOf(BROWSE), path: path(), inReplyTo: answer() }, loose),
  progress: object({ type: literal('progress'), progress, file: str(), index: anyNum(), count: anyNum(), inReplyTo: answer() }, loose),
  result: object(
    {
      type: literal('result'),
      taskId: nullable(str()),
      result: mergeable<ConvertResult>(),
      inputUri: str(),
      outputUri: str(),
      inReplyTo: answer(),
    },
    loose,
  ),
  batchDone: object({ type: literal('batchDone'), converted: anyNum(), failed: anyNum(), inReplyTo: answer() }, loose),
  error: object({ type: literal('error'), message: str(), inReplyTo: answer() }, loose),
  history: object({ type: literal('history'), rows: rows(), inReplyTo: answer() }, loose),
  presets: object({ type: literal('presets'), presets: mergeable<Presets>(), inReplyTo: answer() }, loose),
  needs: object({ type: literal('needs'), modelPath: str(), contentVec: AUX_NEED, rmvpe: nullable(AUX_NEED), inReplyTo: answer() }, loose),
  /** "Convert with this Model" on an open panel: the fresh model list, that model and its index chosen. */
  select: object({ type: literal('select'), models: models(), modelPath: path(), indexPath: nullable(path()) }, loose),
  /** The request `inReplyTo` has ended (after its result or error): the panel leaves its busy state. */
  done: object({ type: literal('done'), inReplyTo: inReplyToField() }, loose),
});
export type ToInferenceWebview = Infer<typeof TO_INFERENCE_WEBVIEW>;

/** The host's messages are checked by the webview too: a malformed one is ignored, never rendered. */
export function isToInferenceWebview(raw: unknown): raw is ToInferenceWebview {
  return passes(TO_INFERENCE_WEBVIEW, raw);
}
