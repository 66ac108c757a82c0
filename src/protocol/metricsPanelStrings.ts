/**
 * The metrics panel's string table, in English: its own file, so the texts are read and translated
 * in one place (src/extension/panels/panelStrings.ts fills the same shape with l10n.t).
 */
import type { XAxisMode } from './xAxisModes.ts';
import { stringsParser } from './panelStrings.ts';

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
export const parseMetricsStrings: (raw: unknown) => MetricsStrings = stringsParser(METRICS_STRINGS);
