/**
 * The inference panel's string table, in English: its own file, so the texts are read and
 * translated in one place (src/extension/panels/panelStrings.ts fills the same shape with l10n.t).
 */
import type { ConvertStage, RangedParam } from './inferenceWorkerProtocol.ts';
import type { PanelF0Method, UNAVAILABLE_F0_METHODS } from './panelF0Methods.ts';
import { stringsParser } from './panelStrings.ts';

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
export const parseInferenceStrings: (raw: unknown) => InferenceStrings = stringsParser(INFERENCE_STRINGS);
