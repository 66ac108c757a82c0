import type { RangedParam } from '../../src/protocol/inferencePanel.ts';
import type { ConvertStage, F0Estimator } from '../../src/protocol/inferenceWorkerProtocol.ts';

/**
 * Every string the inference panel shows, in one object: the host can hand a translated one in
 * later (the webview cannot call vscode.l10n itself) without touching the components.
 */
export const STRINGS = {
  labels: {
    transpose: 'Transpose (semitones; 12 = one octave)',
    indexRate: 'Search feature ratio (index rate)',
    filterRadius: 'Median filter radius',
    rmsMixRate: 'Volume envelope mix (rms mix rate)',
    protect: 'Protect voiceless consonants (0.5 = off)',
    resampleSr: 'Resample output (0 = the model’s rate)',
    sid: 'Speaker id',
  } satisfies Record<RangedParam, string>,
  f0Methods: {
    yin: 'yin — built in, no model file (not one of RVC’s pm, harvest, crepe)',
    rmvpe: 'rmvpe — RVC’s default; needs rmvpe.onnx',
  } satisfies Record<F0Estimator, string>,
  stages: {
    export: 'exporting the model',
    load: 'loading the models',
    decode: 'reading the input',
    resample: 'resampling to 16 kHz',
    features: 'ContentVec features',
    f0: 'pitch',
    index: 'index search',
    synthesis: 'synthesis',
    post: 'writing the output',
  } satisfies Record<ConvertStage, string>,
  why: {
    busy: 'Converting…',
    model: 'Choose a model',
    contentVec: 'Choose ContentVec',
    input: 'Choose an input file',
    folder: 'Choose a batch folder',
    rmvpe: 'Choose an RMVPE model, or pick yin',
  },
  converting: (file: string, index: number, count: number, stage: string) => `Converting ${file} (${index}/${count}): ${stage}`,
  result: (file: string, seconds: number, rate: number, ms: number) => `${file}: ${seconds.toFixed(2)} s in, ${rate} Hz, ${ms} ms`,
  batchDone: (converted: number, failed: number) => `Batch done: ${converted} converted, ${failed} failed.`,
  reveal: 'Reveal',
  revealTitle: 'Show the converted file in the file manager',
};
