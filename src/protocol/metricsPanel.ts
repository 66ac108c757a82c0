/**
 * The one contract between the metrics panel host (src/extension/panels/) and its webview
 * (webviews/metrics/). Both sides import these types; the host also runs `parseFromWebview` on
 * every message, because the webview is untrusted input.
 *
 * Values cross postMessage as JSON, which has no NaN or ±Infinity, so non-finite values travel as
 * the strings "NaN", "Infinity" and "-Infinity" (the same spelling the CLI's --json output uses).
 */

import { checkCorrelation, inReplyToOf } from './messageHandler.ts';
import { mergeStrings } from './panelStrings.ts';

export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** How points are placed on the x axis; `relative` is ms since the series' first point, as in TensorBoard. */
export type XAxisMode = 'step' | 'epoch' | 'relative' | 'wall';
export const X_AXIS_MODES: readonly XAxisMode[] = ['step', 'epoch', 'relative', 'wall'];

export type PanelKind = 'training' | 'compare';

/** One training shown in the panel; `color` is filled in by the webview from the theme palette. */
export interface RunInfo {
  trainingId: string;
  name: string;
}

/** A series as parallel columns: smaller than an array of objects and cheap to append to. */
export interface SeriesColumns {
  steps: number[];
  values: WireNumber[];
  epochs: (number | null)[];
  wallTimesMs: (number | null)[];
}

export interface SeriesPayload extends SeriesColumns {
  trainingId: string;
  tag: string;
  /** Raw points the store holds for this tag (in the requested range); more than sent means downsampled. */
  totalPoints: number;
}

/** A saved checkpoint, small model or index: a marker on the x axis that reveals the file on click. */
export interface CheckpointMarker {
  trainingId: string;
  kind: 'checkpoint_g' | 'checkpoint_d' | 'weights' | 'onnx' | 'index';
  path: string;
  epoch: number | null;
  step: number | null;
}

export interface BestEpoch {
  trainingId: string;
  epoch: number;
  step: number | null;
  tag: string;
  /** The epoch's smoothed loss (the per-epoch means, smoothed as the chart is): what the suggestion ranks by. */
  value: number;
  /** The same epoch's raw mean, unsmoothed; null when not known. */
  rawMean?: number | null;
  /** The smoothing weight `value` was computed with. */
  smoothing?: number;
}

/** Settings the panel keeps across hide/show and window reloads (webview state + serializer). */
export interface PanelSettings {
  smoothing: number;
  xAxis: XAxisMode;
  logScale: boolean;
  tagFilter: string;
  expandedGroups: string[];
  hiddenRuns: string[];
  showRaw: boolean;
}

export const DEFAULT_PANEL_SETTINGS: PanelSettings = {
  smoothing: 0.6,
  xAxis: 'step',
  logScale: false,
  tagFilter: '',
  expandedGroups: [],
  hiddenRuns: [],
  showRaw: true,
};

/** TensorBoard clamps the weight to [0, 0.999]; at 1 the curve would never move. */
export const MAX_SMOOTHING = 0.999;

/** The state the webview persists with setState and the serializer hands back on reload. */
export interface PersistedPanelState {
  kind: PanelKind;
  trainingIds: string[];
  settings: PanelSettings;
}

/**
 * Every string the metrics panel shows, in English: what the webview renders until init brings the
 * host's translation (src/extension/panels/panelStrings.ts fills the same shape with l10n.t).
 * `{0}` … are filled in by the webview (formatString, ./panelStrings.ts). Tags are the trainer's
 * names and stay as logged (a chart's title names its tag in parentheses).
 */
export const METRICS_STRINGS = {
  filterPlaceholder: 'Filter tags (regular expression)',
  filterTitle: 'Only charts whose tags match are shown',
  smoothing: 'Smoothing',
  alignBy: 'Align by',
  xAxis: 'X axis',
  xAxisModes: { step: 'Step', epoch: 'Epoch', relative: 'Relative time', wall: 'Wall time' } satisfies Record<XAxisMode, string>,
  logScale: 'Log scale',
  showRaw: 'Show raw',
  exportCsv: 'Export CSV',
  trainings: 'Trainings',
  toggleRun: 'Show or hide this training',
  dismiss: 'Dismiss',
  markers: 'Markers:',
  markerWeights: 'small model saved (its epoch at the foot)',
  markerCheckpoint: 'G checkpoint — click either to reveal the file',
  markerBest: 'best epoch (lowest smoothed generator loss among saved models)',
  /** {0}: how many tags. */
  loadingOne: 'Loading {0} tag…',
  loadingMany: 'Loading {0} tags…',
  noMetrics: 'No metrics yet. Points appear here as soon as the trainer logs them.',
  noMatch: 'No tag matches the filter.',
  /** {0}: epoch, {1}: tag, {2}: smoothed value, {3}: bestSmoothing or '', {4}: bestRaw or ''. */
  bestEpoch: 'Best epoch {0}: {1} {2} smoothed (per-epoch mean{3}){4}',
  bestSmoothing: ', smoothing {0}',
  bestRaw: '; raw epoch mean {0}',
  /** {0}: the best epoch, the label of its marker line. */
  bestMarker: 'best e{0}',
  resetZoom: 'Reset zoom',
  savePng: 'Save this chart as PNG',
  png: 'PNG',
  leftAxis: '(left axis)',
  rightAxis: '(right axis)',
  smoothedWithRaw: 'smoothed; faint: raw',
  smoothed: 'smoothed',
  notSmoothed: 'raw (not smoothed)',
  /** {0}: the chart's title. */
  legend: '{0} legend',
  chart: '{0} chart',
  /** {0}: the series' label. */
  rawSeries: '{0} (raw)',
  /** {0}: series, {1}: smoothed value, {2}: raw value. */
  tooltipSmoothed: '{0}: {1} smoothed (raw {2})',
  /** {0}: how many points. */
  gapsOne: '{0} point is NaN or ±Infinity (usually fp16 overflow): gaps in the line, left out of smoothing.',
  gapsMany: '{0} points are NaN or ±Infinity (usually fp16 overflow): gaps in the line, left out of smoothing.',
  /** Chart and section titles (webviews/metrics/chartGroups.ts). */
  charts: {
    generatorTotal: 'Generator total (loss/g/total)',
    discriminatorTotal: 'Discriminator total (loss/d/total)',
    mel: 'Mel (loss/g/mel)',
    kl: 'KL (loss/g/kl)',
    featureMatching: 'Feature matching (loss/g/fm)',
    learningRate: 'Learning rate',
    gradientNorms: 'Gradient norms',
    perSubGenerator: 'Generator loss per sub-discriminator (loss/g/N)',
    perSubReal: 'Discriminator loss on real audio (loss/d_r/N)',
    perSubGenerated: 'Discriminator loss on generated audio (loss/d_g/N)',
    losses: 'Losses',
    optimizer: 'Optimiser',
    other: 'Other',
  },
};

export type MetricsStrings = typeof METRICS_STRINGS;

/** The host's strings as the webview uses them: every key present, the English default where one is missing or malformed. */
export function parseMetricsStrings(raw: unknown): MetricsStrings {
  return mergeStrings(METRICS_STRINGS, raw);
}

// ---- host → webview -------------------------------------------------------------------------

/** First message: which trainings this panel shows and the settings to start from. */
export interface InitMessage {
  type: 'init';
  kind: PanelKind;
  runs: RunInfo[];
  settings: PanelSettings;
  /** Every string the panel shows, in the user's language; the webview checks it with parseMetricsStrings. */
  strings: MetricsStrings;
}
/** The tags each training has; the webview groups them into charts. */
export interface TagsMessage {
  type: 'tags';
  tags: { trainingId: string; tag: string }[];
}
/** Replaces the points of the listed series: an answer to requestSeries (one per tag), `inReplyTo` its messageId. */
export interface SeriesMessage {
  type: 'series';
  inReplyTo: number | null;
  /** The requested tags this message answers, those without points included: the panel stops waiting for them. */
  tags: string[];
  series: SeriesPayload[];
}
/** Live points that arrived since the last message; appended, never re-sent. */
export interface AppendMessage {
  type: 'append';
  trainingId: string;
  points: { tag: string; step: number; value: WireNumber; epoch: number | null; wallTimeMs: number | null }[];
}
/** Checkpoint markers, best epoch and the overtraining warning for one training. */
export interface MarkersMessage {
  type: 'markers';
  trainingId: string;
  checkpoints: CheckpointMarker[];
  bestEpoch: BestEpoch | null;
  overtraining: string | null;
}
/** Something the user should see in the panel (a failed query, a refused request). */
export interface NoticeMessage {
  type: 'notice';
  level: 'info' | 'error';
  text: string;
  /** The request that failed, when one did: an error notice ends it (its tags stop loading). */
  inReplyTo?: number;
}

export type ToWebview = InitMessage | TagsMessage | SeriesMessage | AppendMessage | MarkersMessage | NoticeMessage;

// ---- webview → host -------------------------------------------------------------------------

/** The webview has loaded and listens; the host answers with init. */
export interface ReadyMessage {
  type: 'ready';
}
/**
 * Points for these tags, downsampled to about maxPoints per series, optionally within a step range
 * (zoom). Answered by one series message per tag (src/protocol/messageHandler.ts: inReplyTo = messageId).
 */
export interface RequestSeriesMessage {
  type: 'requestSeries';
  messageId: number;
  tags: string[];
  maxPoints: number;
  stepRange: [number, number] | null;
}
/** Settings changed: the host remembers them for the serializer and for new panels. */
export interface SettingsChangedMessage {
  type: 'settingsChanged';
  settings: PanelSettings;
}
/** A checkpoint marker was clicked: show the file in the explorer. */
export interface RevealArtifactMessage {
  type: 'revealArtifact';
  path: string;
}
/** Export: the host asks where to save and writes the file. PNG data is base64 without the data: prefix. */
export interface ExportMessage {
  type: 'export';
  format: 'csv' | 'png';
  suggestedName: string;
  data: string;
}

export type FromWebview = ReadyMessage | RequestSeriesMessage | SettingsChangedMessage | RevealArtifactMessage | ExportMessage;

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

// ---- runtime validation (host side) ---------------------------------------------------------

/** The most a webview may ask for in one request; keeps a hostile message from exhausting the host. */
export const MAX_REQUEST_TAGS = 500;
export const MAX_POINTS_PER_SERIES = 20_000;
const MAX_EXPORT_CHARS = 64 * 1024 * 1024;

export type ParseResult = { ok: true; message: FromWebview } | { ok: false; reason: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isFiniteNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function onlyKeys(o: Obj, allowed: readonly string[]): string | null {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  return extra.length > 0 ? `unexpected field ${extra[0]}` : null;
}

export function parseSettings(v: unknown): PanelSettings | string {
  if (!isObj(v)) return 'settings must be an object';
  const extra = onlyKeys(v, Object.keys(DEFAULT_PANEL_SETTINGS));
  if (extra) return extra;
  const { smoothing, xAxis, logScale, tagFilter, expandedGroups, hiddenRuns, showRaw } = v;
  if (!isFiniteNum(smoothing) || smoothing < 0 || smoothing > MAX_SMOOTHING) return 'smoothing must be in [0, 0.999]';
  if (!X_AXIS_MODES.includes(xAxis as XAxisMode)) return 'xAxis must be step, epoch, relative or wall';
  if (typeof logScale !== 'boolean' || typeof showRaw !== 'boolean') return 'logScale and showRaw must be booleans';
  if (!isStr(tagFilter) || tagFilter.length > 1000) return 'tagFilter must be a string of at most 1000 characters';
  for (const list of [expandedGroups, hiddenRuns]) {
    if (!Array.isArray(list) || list.length > 1000 || !list.every(isStr)) return 'expandedGroups and hiddenRuns must be string lists';
  }
  return {
    smoothing,
    xAxis: xAxis as XAxisMode,
    logScale,
    tagFilter,
    expandedGroups: [...(expandedGroups as string[])],
    hiddenRuns: [...(hiddenRuns as string[])],
    showRaw,
  };
}

/**
 * Checks a message from the webview field by field. Paths are only checked for shape here; the
 * host confines them to the workspace with src/core/util/paths.ts before using them.
 */
export function parseFromWebview(raw: unknown): ParseResult {
  const fail = (reason: string): ParseResult => ({ ok: false, reason });
  if (!isObj(raw)) return fail('message is not an object');
  const type = raw['type'];
  switch (type) {
    case 'ready': {
      const extra = onlyKeys(raw, ['type']);
      return extra ? fail(extra) : { ok: true, message: { type } };
    }
    case 'requestSeries': {
      const extra = onlyKeys(raw, ['type', 'messageId', 'tags', 'maxPoints', 'stepRange']);
      if (extra) return fail(extra);
      const { messageId, tags, maxPoints, stepRange } = raw;
      const badId = checkCorrelation(raw, 'messageId', true);
      if (badId) return fail(badId);
      if (!Array.isArray(tags) || tags.length > MAX_REQUEST_TAGS || !tags.every((t) => isStr(t) && t.length > 0 && t.length <= 512)) {
        return fail(`tags must be 0..${MAX_REQUEST_TAGS} non-empty strings`);
      }
      if (!Number.isSafeInteger(maxPoints) || (maxPoints as number) < 2 || (maxPoints as number) > MAX_POINTS_PER_SERIES) {
        return fail(`maxPoints must be an integer in [2, ${MAX_POINTS_PER_SERIES}]`);
      }
      let range: [number, number] | null = null;
      if (stepRange !== null) {
        const [lo, hi] = Array.isArray(stepRange) && stepRange.length === 2 ? (stepRange as unknown[]) : [];
        if (!isFiniteNum(lo) || !isFiniteNum(hi) || lo > hi) return fail('stepRange must be null or [min, max] with min <= max');
        range = [lo, hi];
      }
      return {
        ok: true,
        message: { type, messageId: messageId as number, tags: [...(tags as string[])], maxPoints: maxPoints as number, stepRange: range },
      };
    }
    case 'settingsChanged': {
      const extra = onlyKeys(raw, ['type', 'settings']);
      if (extra) return fail(extra);
      const settings = parseSettings(raw['settings']);
      return typeof settings === 'string' ? fail(settings) : { ok: true, message: { type, settings } };
    }
    case 'revealArtifact': {
      const extra = onlyKeys(raw, ['type', 'path']);
      if (extra) return fail(extra);
      const p = raw['path'];
      if (!isStr(p) || p.length === 0 || p.length > 4096 || p.includes('\0')) return fail('path must be a non-empty string');
      return { ok: true, message: { type, path: p } };
    }
    case 'export': {
      const extra = onlyKeys(raw, ['type', 'format', 'suggestedName', 'data']);
      if (extra) return fail(extra);
      const { format, suggestedName, data } = raw;
      if (format !== 'csv' && format !== 'png') return fail('format must be csv or png');
      // A bare file name: the user picks the folder in the save dialog.
      if (!isStr(suggestedName) || !/^[\w.\- ]{1,200}$/.test(suggestedName) || suggestedName.startsWith('.')) {
        return fail('suggestedName must be a plain file name');
      }
      if (!isStr(data) || data.length > MAX_EXPORT_CHARS) return fail('data must be a string under 64 MiB');
      if (format === 'png' && !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) return fail('png data must be base64');
      return { ok: true, message: { type, format, suggestedName, data } };
    }
    default:
      return fail(`unknown message type ${JSON.stringify(type)?.slice(0, 80) ?? 'undefined'}`);
  }
}

const isWire = (v: unknown): v is WireNumber => typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity';
const isNumOrNull = (v: unknown): v is number | null => v === null || typeof v === 'number';
const ARTIFACT_KINDS: readonly CheckpointMarker['kind'][] = ['checkpoint_g', 'checkpoint_d', 'weights', 'onnx', 'index'];

function parseSeriesPayload(v: unknown): SeriesPayload | null {
  if (!isObj(v) || !isStr(v['trainingId']) || !isStr(v['tag'])) return null;
  const { steps, values, epochs, wallTimesMs, totalPoints } = v;
  if (!Array.isArray(steps) || !Array.isArray(values) || steps.length !== values.length) return null;
  if (!steps.every(isFiniteNum) || !values.every(isWire)) return null;
  const column = (c: unknown) =>
    Array.isArray(c) && c.length === steps.length && c.every(isNumOrNull) ? (c as (number | null)[]) : steps.map(() => null);
  return {
    trainingId: v['trainingId'],
    tag: v['tag'],
    steps: steps as number[],
    values: values as WireNumber[],
    epochs: column(epochs),
    wallTimesMs: column(wallTimesMs),
    totalPoints: isFiniteNum(totalPoints) ? totalPoints : steps.length,
  };
}

function parseCheckpoint(v: unknown): CheckpointMarker | null {
  if (!isObj(v) || !isStr(v['trainingId']) || !isStr(v['path'])) return null;
  if (!ARTIFACT_KINDS.includes(v['kind'] as CheckpointMarker['kind'])) return null;
  if (!isNumOrNull(v['epoch'] ?? null) || !isNumOrNull(v['step'] ?? null)) return null;
  return {
    trainingId: v['trainingId'],
    kind: v['kind'] as CheckpointMarker['kind'],
    path: v['path'],
    epoch: (v['epoch'] ?? null) as number | null,
    step: (v['step'] ?? null) as number | null,
  };
}

function parseBestEpoch(v: unknown): BestEpoch | null {
  if (!isObj(v) || !isStr(v['trainingId']) || !isFiniteNum(v['epoch']) || !isStr(v['tag']) || typeof v['value'] !== 'number') return null;
  return {
    trainingId: v['trainingId'],
    epoch: v['epoch'],
    step: isFiniteNum(v['step']) ? v['step'] : null,
    tag: v['tag'],
    value: v['value'],
    rawMean: isFiniteNum(v['rawMean']) ? v['rawMean'] : null,
    ...(isFiniteNum(v['smoothing']) ? { smoothing: v['smoothing'] } : {}),
  };
}

/**
 * The webview's check of host messages. The host is trusted but may be a different version, and a
 * bad message must never break what is drawn: the shape is checked and bad entries are dropped.
 * Returns null for a message to ignore.
 */
export function parseToWebview(raw: unknown): ToWebview | null {
  if (!isObj(raw)) return null;
  switch (raw['type']) {
    case 'init': {
      const { kind, runs, settings } = raw;
      if (kind !== 'training' && kind !== 'compare') return null;
      if (!Array.isArray(runs) || !runs.every((r) => isObj(r) && isStr(r['trainingId']) && isStr(r['name']))) return null;
      const parsed = parseSettings(settings);
      return {
        type: 'init',
        kind,
        runs: (runs as RunInfo[]).map((r) => ({ trainingId: r.trainingId, name: r.name })),
        settings: typeof parsed === 'string' ? { ...DEFAULT_PANEL_SETTINGS } : parsed,
        strings: parseMetricsStrings(raw['strings']),
      };
    }
    case 'tags':
      if (!Array.isArray(raw['tags'])) return null;
      return {
        type: 'tags',
        tags: (raw['tags'] as unknown[]).filter(
          (t): t is { trainingId: string; tag: string } => isObj(t) && isStr(t['trainingId']) && isStr(t['tag']),
        ),
      };
    case 'series': {
      if (!Array.isArray(raw['series'])) return null;
      const series = (raw['series'] as unknown[]).map(parseSeriesPayload).filter((s): s is SeriesPayload => s !== null);
      const answered = Array.isArray(raw['tags']) ? (raw['tags'] as unknown[]).filter(isStr) : series.map((s) => s.tag);
      return { type: 'series', inReplyTo: inReplyToOf(raw) ?? null, tags: answered, series };
    }
    case 'append': {
      if (!isStr(raw['trainingId']) || !Array.isArray(raw['points'])) return null;
      const points = (raw['points'] as unknown[]).filter(
        (p): p is AppendMessage['points'][number] =>
          isObj(p) &&
          isStr(p['tag']) &&
          isFiniteNum(p['step']) &&
          isWire(p['value']) &&
          isNumOrNull(p['epoch'] ?? null) &&
          isNumOrNull(p['wallTimeMs'] ?? null),
      );
      return {
        type: 'append',
        trainingId: raw['trainingId'],
        points: points.map((p) => ({ ...p, epoch: p.epoch ?? null, wallTimeMs: p.wallTimeMs ?? null })),
      };
    }
    case 'markers': {
      if (!isStr(raw['trainingId']) || !Array.isArray(raw['checkpoints'])) return null;
      return {
        type: 'markers',
        trainingId: raw['trainingId'],
        checkpoints: (raw['checkpoints'] as unknown[]).map(parseCheckpoint).filter((c): c is CheckpointMarker => c !== null),
        bestEpoch: parseBestEpoch(raw['bestEpoch']),
        overtraining: isStr(raw['overtraining']) ? raw['overtraining'] : null,
      };
    }
    case 'notice':
      if (!isStr(raw['text'])) return null;
      return {
        type: 'notice',
        level: raw['level'] === 'error' ? 'error' : 'info',
        text: raw['text'],
        ...(inReplyToOf(raw) !== undefined ? { inReplyTo: inReplyToOf(raw)! } : {}),
      };
    default:
      return null;
  }
}
