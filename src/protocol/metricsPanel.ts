/**
 * The one contract between the metrics panel host (src/extension/panels/) and its webview
 * (webviews/metrics/). Every message is declared once, as a schema (./schema.ts): its type is
 * inferred from it, and the same schema checks it at runtime. The host runs `parseFromWebview` on
 * every message, because the webview is untrusted input; the webview runs `parseToWebview`, which
 * is lenient (the host may be another version, and a bad entry must never break what is drawn).
 *
 * Values cross postMessage as JSON, which has no NaN or ±Infinity, so non-finite values travel as
 * the strings "NaN", "Infinity" and "-Infinity" (the same spelling the CLI's --json output uses).
 */

import { messageIdField } from './messageHandler.ts';
import { parseMetricsStrings } from './metricsPanelStrings.ts';
import {
  anyNum,
  arrayOf,
  before,
  bool,
  fallback,
  filteredArrayOf,
  int,
  Invalid,
  isInvalid,
  literal,
  map,
  nullable,
  num,
  object,
  oneOf,
  optional,
  path,
  refine,
  str,
  union,
  unknownValue,
  withMessage,
  type Infer,
  type Schema,
} from './schema.ts';

export { METRICS_STRINGS, parseMetricsStrings, type MetricsStrings } from './metricsPanelStrings.ts';

export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';

import { AXIS_MODES } from './xAxisModes.ts';
export { X_AXIS_MODES, type XAxisMode } from './xAxisModes.ts';

const PANEL_KINDS = ['training', 'compare'] as const;
export type PanelKind = (typeof PANEL_KINDS)[number];

/** TensorBoard clamps the weight to [0, 0.999]; at 1 the curve would never move. */
export const MAX_SMOOTHING = 0.999;

/** The most a webview may ask for in one request; keeps a hostile message from exhausting the host. */
export const MAX_REQUEST_TAGS = 500;
export const MAX_POINTS_PER_SERIES = 20_000;
const MAX_EXPORT_CHARS = 64 * 1024 * 1024;
const MAX_LIST = 1000;

// ---- shared pieces ----------------------------------------------------------------------------

const lists = 'expandedGroups and hiddenRuns must be string lists';
const booleans = 'logScale and showRaw must be booleans';
/** Settings the panel keeps across hide/show and window reloads (webview state + serializer). */
const PANEL_SETTINGS = object({
  smoothing: withMessage(num(0, MAX_SMOOTHING), 'smoothing must be in [0, 0.999]'),
  xAxis: withMessage(oneOf(AXIS_MODES), 'xAxis must be step, epoch, relative or wall'),
  logScale: withMessage(bool(), booleans),
  tagFilter: withMessage(str({ max: MAX_LIST }), 'tagFilter must be a string of at most 1000 characters'),
  expandedGroups: withMessage(arrayOf(str(), { max: MAX_LIST }), lists),
  hiddenRuns: withMessage(arrayOf(str(), { max: MAX_LIST }), lists),
  showRaw: withMessage(bool(), booleans),
});
export type PanelSettings = Infer<typeof PANEL_SETTINGS>;

export const DEFAULT_PANEL_SETTINGS: PanelSettings = {
  smoothing: 0.6,
  xAxis: 'step',
  logScale: false,
  tagFilter: '',
  expandedGroups: [],
  hiddenRuns: [],
  showRaw: true,
};

/** The settings checked, or why not (a saved state or a message is untrusted). */
export function parseSettings(v: unknown): PanelSettings | string {
  const read = PANEL_SETTINGS.read(v);
  if (!isInvalid(read)) return read;
  return read.whole ? read.reason : `settings ${read.reason}`;
}

/** The state the webview persists with setState and the serializer hands back on reload. */
export interface PersistedPanelState {
  kind: PanelKind;
  trainingIds: string[];
  settings: PanelSettings;
}

/** Stored settings, or the defaults where they are missing or malformed. */
const settingsOrDefaults = fallback(PANEL_SETTINGS, () => ({ ...DEFAULT_PANEL_SETTINGS }));

/** A saved panel state (untrusted too): the trainings it showed and its settings, defaults where those are bad. */
export const PERSISTED_STATE = object({ trainingIds: arrayOf(str(), { min: 1, max: 50 }), settings: settingsOrDefaults }, { loose: true });

const WIRE: Schema<WireNumber> = {
  read: (v) => (typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity' ? v : new Invalid('must be a wire number')),
};
/** A number or null, absent meaning null (older hosts left these out). */
const numOrNull = () => before((v) => v ?? null, nullable(anyNum()));
/** Loose: the host may be another version and send more. */
const loose = { loose: true };

/** One training shown in the panel; `color` is filled in by the webview from the theme palette. */
const RUN_INFO = object({ trainingId: str(), name: str() }, loose);
export type RunInfo = Infer<typeof RUN_INFO>;

/** A series as parallel columns: smaller than an array of objects and cheap to append to. */
export interface SeriesColumns {
  steps: number[];
  values: WireNumber[];
  epochs: (number | null)[];
  wallTimesMs: (number | null)[];
}

/** A column as long as the steps, or all nulls where it is missing or does not fit. */
const column = (c: unknown, length: number): (number | null)[] =>
  Array.isArray(c) && c.length === length && c.every((x) => x === null || typeof x === 'number') ? c : Array<null>(length).fill(null);

const SERIES_PAYLOAD = map(
  refine(
    object(
      {
        trainingId: str(),
        tag: str(),
        steps: arrayOf(num()),
        values: arrayOf(WIRE),
        epochs: unknownValue(),
        wallTimesMs: unknownValue(),
        /** Raw points the store holds for this tag (in the requested range); more than sent means downsampled. */
        totalPoints: fallback(num(), () => null),
      },
      loose,
    ),
    (s) => (s.steps.length === s.values.length ? null : 'steps and values differ in length'),
  ),
  (s) => ({
    trainingId: s.trainingId,
    tag: s.tag,
    steps: s.steps,
    values: s.values,
    epochs: column(s.epochs, s.steps.length),
    wallTimesMs: column(s.wallTimesMs, s.steps.length),
    totalPoints: s.totalPoints ?? s.steps.length,
  }),
);
export type SeriesPayload = Infer<typeof SERIES_PAYLOAD>;

const ARTIFACT_KINDS = ['checkpoint_g', 'checkpoint_d', 'weights', 'onnx', 'index'] as const;
/** A saved checkpoint, small model or index: a marker on the x axis that reveals the file on click. */
const CHECKPOINT = object({ trainingId: str(), kind: oneOf(ARTIFACT_KINDS), path: str(), epoch: numOrNull(), step: numOrNull() }, loose);
export type CheckpointMarker = Infer<typeof CHECKPOINT>;

const BEST_EPOCH = object(
  {
    trainingId: str(),
    epoch: num(),
    step: fallback(num(), () => null),
    tag: str(),
    /** The epoch's smoothed loss (the per-epoch means, smoothed as the chart is): what the suggestion ranks by. */
    value: anyNum(),
    /** The same epoch's raw mean, unsmoothed; null when not known. */
    rawMean: fallback(num(), () => null),
    /** The smoothing weight `value` was computed with. */
    smoothing: optional(fallback(num(), () => undefined)),
  },
  loose,
);
export type BestEpoch = Infer<typeof BEST_EPOCH>;

const APPEND_POINT = object({ tag: str(), step: num(), value: WIRE, epoch: numOrNull(), wallTimeMs: numOrNull() }, loose);

// ---- host → webview -------------------------------------------------------------------------

/** First message: which trainings this panel shows and the settings to start from. */
const INIT = object(
  {
    type: literal('init'),
    kind: oneOf(PANEL_KINDS),
    runs: arrayOf(RUN_INFO),
    settings: settingsOrDefaults,
    /** Every string the panel shows, in the user's language; English where the host's is missing or malformed. */
    strings: map(unknownValue(), parseMetricsStrings),
  },
  loose,
);
export type InitMessage = Infer<typeof INIT>;

/** The tags each training has; the webview groups them into charts. */
const TAGS = object({ type: literal('tags'), tags: filteredArrayOf(object({ trainingId: str(), tag: str() }, loose)) }, loose);
export type TagsMessage = Infer<typeof TAGS>;

/** Replaces the points of the listed series: an answer to requestSeries (one per tag), `inReplyTo` its messageId. */
const SERIES = map(
  object(
    {
      type: literal('series'),
      inReplyTo: fallback(int(0), () => null),
      /** The requested tags this message answers, those without points included: the panel stops waiting for them. */
      tags: fallback(filteredArrayOf(str()), () => null),
      series: filteredArrayOf(SERIES_PAYLOAD),
    },
    loose,
  ),
  (m) => ({ type: m.type, inReplyTo: m.inReplyTo, tags: m.tags ?? m.series.map((s) => s.tag), series: m.series }),
);
export type SeriesMessage = Infer<typeof SERIES>;

/** Live points that arrived since the last message; appended, never re-sent. */
const APPEND = object({ type: literal('append'), trainingId: str(), points: filteredArrayOf(APPEND_POINT) }, loose);
export type AppendMessage = Infer<typeof APPEND>;

/** Checkpoint markers, best epoch and the overtraining warning for one training. */
const MARKERS = object(
  {
    type: literal('markers'),
    trainingId: str(),
    checkpoints: filteredArrayOf(CHECKPOINT),
    bestEpoch: fallback(BEST_EPOCH, () => null),
    overtraining: fallback(str(), () => null),
  },
  loose,
);
export type MarkersMessage = Infer<typeof MARKERS>;

/** Something the user should see in the panel (a failed query, a refused request). */
const NOTICE = object(
  {
    type: literal('notice'),
    level: fallback(literal('error'), () => 'info' as const),
    text: str(),
    /** The request that failed, when one did: an error notice ends it (its tags stop loading). */
    inReplyTo: optional(fallback(int(0), () => undefined)),
  },
  loose,
);
export type NoticeMessage = Infer<typeof NOTICE>;

const TO_WEBVIEW = union({ init: INIT, tags: TAGS, series: SERIES, append: APPEND, markers: MARKERS, notice: NOTICE });

export type ToWebview = Infer<typeof TO_WEBVIEW>;

/**
 * The webview's check of host messages: the shape is checked and bad entries are dropped (a
 * missing column becomes nulls, bad settings the defaults). Returns null for a message to ignore.
 */
export function parseToWebview(raw: unknown): ToWebview | null {
  const read = TO_WEBVIEW.read(raw);
  return isInvalid(read) ? null : read;
}

// ---- webview → host -------------------------------------------------------------------------

/** The webview has loaded and listens; the host answers with init. */
const READY = object({ type: literal('ready') });
export type ReadyMessage = Infer<typeof READY>;

/**
 * Points for these tags, downsampled to about maxPoints per series, optionally within a step range
 * (zoom). Answered by one series message per tag (src/protocol/messageHandler.ts: inReplyTo = messageId).
 */
const REQUEST_SERIES = object({
  type: literal('requestSeries'),
  messageId: messageIdField(),
  tags: withMessage(arrayOf(str({ min: 1, max: 512 }), { max: MAX_REQUEST_TAGS }), `tags must be 0..${MAX_REQUEST_TAGS} non-empty strings`),
  maxPoints: withMessage(int(2, MAX_POINTS_PER_SERIES), `maxPoints must be an integer in [2, ${MAX_POINTS_PER_SERIES}]`),
  stepRange: withMessage(
    nullable(
      refine(
        map(arrayOf(num(), { min: 2, max: 2 }), ([lo, hi]): [number, number] => [lo!, hi!]),
        ([lo, hi]) => (lo <= hi ? null : 'min > max'),
      ),
    ),
    'stepRange must be null or [min, max] with min <= max',
  ),
});
export type RequestSeriesMessage = Infer<typeof REQUEST_SERIES>;

/** Settings changed: the host remembers them for the serializer and for new panels. */
const SETTINGS_CHANGED = object({ type: literal('settingsChanged'), settings: PANEL_SETTINGS });
export type SettingsChangedMessage = Infer<typeof SETTINGS_CHANGED>;

/** A checkpoint marker was clicked: show the file in the explorer. Only its shape is checked here; the host confines it. */
const REVEAL_ARTIFACT = object({ type: literal('revealArtifact'), path: withMessage(path(), 'path must be a non-empty string') });
export type RevealArtifactMessage = Infer<typeof REVEAL_ARTIFACT>;

/** Export: the host asks where to save and writes the file. PNG data is base64 without the data: prefix. */
const EXPORT = refine(
  object({
    type: literal('export'),
    format: withMessage(oneOf(['csv', 'png']), 'format must be csv or png'),
    // A bare file name: the user picks the folder in the save dialog.
    suggestedName: withMessage(
      refine(str({ pattern: /^[\w.\- ]{1,200}$/ }), (name) => (name.startsWith('.') ? 'hidden' : null)),
      'suggestedName must be a plain file name',
    ),
    data: withMessage(str({ max: MAX_EXPORT_CHARS }), 'data must be a string under 64 MiB'),
  }),
  (m) => (m.format === 'png' && !/^[A-Za-z0-9+/]*={0,2}$/.test(m.data) ? 'png data must be base64' : null),
);
export type ExportMessage = Infer<typeof EXPORT>;

const FROM_WEBVIEW = union({
  ready: READY,
  requestSeries: REQUEST_SERIES,
  settingsChanged: SETTINGS_CHANGED,
  revealArtifact: REVEAL_ARTIFACT,
  export: EXPORT,
});

export type FromWebview = Infer<typeof FROM_WEBVIEW>;

export type ParseResult = { ok: true; message: FromWebview } | { ok: false; reason: string };

/**
 * Checks a message from the webview field by field. Paths are only checked for shape here; the
 * host confines them to the workspace with src/core/util/paths.ts before using them.
 */
export function parseFromWebview(raw: unknown): ParseResult {
  const read = FROM_WEBVIEW.read(raw);
  return isInvalid(read) ? { ok: false, reason: read.reason } : { ok: true, message: read };
}

// ---- wire numbers ---------------------------------------------------------------------------

export function toWire(value: number): WireNumber {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

export function fromWire(value: WireNumber | null): number {
  if (typeof value === 'number') return value;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return NaN;
}
