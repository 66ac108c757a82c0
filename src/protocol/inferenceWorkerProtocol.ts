/**
 * (Not named *Worker.ts: the build bundles every such file as a worker entry.)
 * The contract between the inference host (src/core/inference/inferenceEngine.ts, used by the CLI
 * and the extension) and its worker thread (src/core/inference/inferenceWorker.ts). Plain data only:
 * a panel can reuse ConvertParams/ConvertResult for its own messages.
 */

export const F0_ESTIMATORS = ['yin', 'rmvpe'] as const;
/** `yin` is built in (TypeScript, no model); `rmvpe` needs an RMVPE ONNX. */
export type F0Estimator = (typeof F0_ESTIMATORS)[number];

/** Everything one conversion needs; the same object is stored in inference_tasks.params for re-runs. */
export interface ConvertParams {
  /** An RVC synthesizer `.onnx`, or a `.pth` (small model or G checkpoint) exported on first use. */
  modelPath: string;
  /** Where `.pth` exports are cached: the workspace's `.rvc-studio/models`; null = beside the output. */
  exportDir: string | null;
  inputPath: string;
  outputPath: string;
  /** The synthesizer's output rate (the user, its sidecar, its graph or its training), resolved by the host; 0 for a `.pth`: the model's own. */
  modelSampleRate: number;
  contentVecPath: string;
  f0Method: F0Estimator;
  rmvpePath: string | null;
  /** Semitones, RVC's f0_up_key. */
  transpose: number;
  indexPath: string | null;
  indexRate: number;
  filterRadius: number;
  rmsMixRate: number;
  protect: number;
  /** 0 = keep the model's rate. */
  resampleSr: number;
  sid: number;
  /** Seed for the synthesizer's prior noise; null = random. */
  seed: number | null;
  /** Longest input accepted, in seconds. */
  maxSeconds: number;
  /** onnxruntime intra-op threads; 0 = its default. */
  threads: number;
}

/** RVC's vc_single defaults (§1.7) where RVC has one. */
export const CONVERT_DEFAULTS = {
  f0Method: 'yin' as F0Estimator,
  transpose: 0,
  indexRate: 0.75,
  filterRadius: 3,
  rmsMixRate: 0.25,
  protect: 0.33,
  resampleSr: 0,
  sid: 0,
  seed: null as number | null,
  maxSeconds: 600,
  threads: 0,
  rmvpePath: null as string | null,
  indexPath: null as string | null,
  exportDir: null as string | null,
};

export const CONVERT_STAGES = ['export', 'load', 'decode', 'resample', 'features', 'f0', 'index', 'synthesis', 'post'] as const;
export type ConvertStage = (typeof CONVERT_STAGES)[number];

export interface ConvertProgress {
  stage: ConvertStage;
  /** Chunks done / total during synthesis, weights read / total while exporting a `.pth`; 0/1 → 1/1 for the other stages. */
  done: number;
  total: number;
}

export interface ConvertResult {
  outputPath: string;
  sampleRate: number;
  inputSeconds: number;
  outputSamples: number;
  chunks: number;
  /** Wall time of the whole conversion, RVC's cost_ms. */
  costMs: number;
  /** Milliseconds per stage. */
  stages: Record<ConvertStage, number>;
}

export type ToWorkerMessage =
  /** Start a conversion; the worker runs one at a time. */
  | { type: 'convert'; id: number; params: ConvertParams }
  /** Stop the conversion `id` after the chunk in flight (never mid session.run). */
  | { type: 'cancel'; id: number };

export type FromWorkerMessage =
  | { type: 'progress'; id: number; progress: ConvertProgress }
  | { type: 'done'; id: number; result: ConvertResult }
  /** `userError` marks a problem the user can fix (shown as is); otherwise a bug. */
  | { type: 'failed'; id: number; message: string; code: string; userError: boolean }
  | { type: 'cancelled'; id: number };
