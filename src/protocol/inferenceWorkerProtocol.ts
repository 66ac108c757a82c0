/**
 * (Not named *Worker.ts: the build bundles every such file as a worker entry.)
 * The contract between the inference host (src/core/inference/inferenceEngine.ts, used by the CLI
 * and the extension) and its worker thread (src/core/inference/inferenceWorker.ts). Plain data only:
 * a panel can reuse ConvertParams/ConvertResult for its own messages. Declared as schemas
 * (./schema.ts): the worker checks what it is sent with the same declaration that types it.
 */
import { inReplyToField, messageIdField } from './messageHandler.ts';
import {
  anyNum,
  arrayOf,
  bool,
  int,
  isInvalid,
  literal,
  nullable,
  object,
  oneOf,
  optional,
  str,
  union,
  type Infer,
  type Schema,
} from './schema.ts';

export const F0_ESTIMATORS = ['yin', 'rmvpe', 'harvest'] as const;
/**
 * `rmvpe` and `harvest` are RVC's; `rmvpe` needs an RMVPE ONNX, `harvest` (WORLD, not built in
 * yet) runs only from a recorded tracker output (`f0RawPath`). `yin` is built in (TypeScript, no
 * model) and is not an RVC method: its results differ from any RVC run.
 */
export type F0Estimator = (typeof F0_ESTIMATORS)[number];

/** The two threads are one program: a field more (another version of a side) is dropped, not refused. */
const PEER = { loose: true };
const text = () => str();
const optionalPath = () => optional(nullable(str()));

/**
 * Everything one conversion needs; the same object is stored in inference_tasks.params for re-runs.
 * The worker checks only the shape: the ranges are checkParams' (src/core/inference/voiceConverter.ts),
 * which words them for the user.
 */
export const CONVERT_PARAMS = object(
  {
    /** An RVC synthesizer `.onnx`, or a `.pth` (small model or G checkpoint) exported on first use. */
    modelPath: text(),
    /** Where `.pth` exports are cached: the workspace's `.rvc-studio/models`; null = beside the output. */
    exportDir: nullable(text()),
    inputPath: text(),
    outputPath: text(),
    /** The synthesizer's output rate (the user, its sidecar, its graph or its training), resolved by the host; 0 for a `.pth`: the model's own. */
    modelSampleRate: anyNum(),
    contentVecPath: text(),
    f0Method: oneOf(F0_ESTIMATORS),
    rmvpePath: nullable(text()),
    /** RVC's "F0 curve file" (`time,f0` lines), applied after the key shift as pipeline.py does; null = none. */
    f0CurvePath: optionalPath(),
    /** A `.npy` of the raw tracker output for the padded input, used in place of the tracker (comparisons). */
    f0RawPath: optionalPath(),
    /** Zero the prior noise and the NSF source noise (what RVC's references are recorded with). */
    noNoise: optional(bool()),
    /** Write every stage as `.npy` into this folder; null = none. */
    dumpStagesDir: optionalPath(),
    /** Semitones, RVC's f0_up_key. */
    transpose: anyNum(),
    indexPath: nullable(text()),
    indexRate: anyNum(),
    filterRadius: anyNum(),
    rmsMixRate: anyNum(),
    protect: anyNum(),
    /** 0 = keep the model's rate. */
    resampleSr: anyNum(),
    sid: anyNum(),
    /** Seed for the synthesizer's prior noise; null = random. */
    seed: nullable(anyNum()),
    /** Longest input accepted, in seconds. */
    maxSeconds: anyNum(),
    /** onnxruntime intra-op threads; 0 = its default. */
    threads: anyNum(),
  },
  PEER,
);
export type ConvertParams = Infer<typeof CONVERT_PARAMS>;

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
  f0CurvePath: null as string | null,
  f0RawPath: null as string | null,
  noNoise: false,
  dumpStagesDir: null as string | null,
};

/**
 * The one definition of each parameter's range, [min, max, step]: RVC's (rvc-webui.md §1.7) where
 * RVC has one; RVC's transpose is an unbounded number, ours is two octaves either way. The panel
 * checks it as the user types, the panel protocol's validator on every message, and the converter
 * (checkParams) for the CLI and anything else.
 */
export const CONVERT_RANGES = {
  transpose: [-24, 24, 1],
  indexRate: [0, 1, 0.01],
  filterRadius: [0, 7, 1],
  rmsMixRate: [0, 1, 0.01],
  protect: [0, 0.5, 0.01],
  resampleSr: [0, 48000, 1],
  sid: [0, 2333, 1],
} as const satisfies Record<string, readonly [number, number, number]>;
export type RangedParam = keyof typeof CONVERT_RANGES;
export const RANGED_PARAMS = Object.keys(CONVERT_RANGES) as RangedParam[];

/**
 * What is wrong with `value` for `key` ("must be between 0 and 0.5", "must be a whole number
 * between 0 and 7"), or null when it is fine. Step 1 means whole numbers; finer steps are hints.
 */
export function rangeProblem(key: RangedParam, value: unknown): string | null {
  const [min, max, step] = CONVERT_RANGES[key];
  const whole = step === 1;
  const expected = `must be ${whole ? 'a whole number ' : ''}between ${min} and ${max}`;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) return expected;
  if (whole && !Number.isInteger(value)) return expected;
  return null;
}

export const CONVERT_STAGES = ['export', 'load', 'decode', 'resample', 'features', 'f0', 'index', 'synthesis', 'post'] as const;
export type ConvertStage = (typeof CONVERT_STAGES)[number];

export const CONVERT_PROGRESS = object(
  {
    stage: oneOf(CONVERT_STAGES),
    /** Chunks done / total during synthesis, weights read / total while exporting a `.pth`; 0/1 → 1/1 for the other stages. */
    done: anyNum(),
    total: anyNum(),
  },
  PEER,
);
export type ConvertProgress = Infer<typeof CONVERT_PROGRESS>;

export const CONVERT_RESULT = object(
  {
    outputPath: str(),
    sampleRate: anyNum(),
    inputSeconds: anyNum(),
    outputSamples: anyNum(),
    chunks: anyNum(),
    /** Wall time of the whole conversion, RVC's cost_ms. */
    costMs: anyNum(),
    /** Milliseconds per stage. */
    stages: object(Object.fromEntries(CONVERT_STAGES.map((stage) => [stage, anyNum()])) as Record<ConvertStage, Schema<number>>),
  },
  PEER,
);
export type ConvertResult = Infer<typeof CONVERT_RESULT>;

const TO_WORKER = union({
  /** Start a conversion; the worker runs one at a time. Answered with progress, then done, failed or cancelled. */
  convert: object({ type: literal('convert'), messageId: messageIdField(), params: CONVERT_PARAMS }, PEER),
  /** Stop the conversion `requestId` (a convert's messageId) after the chunk in flight (never mid session.run). */
  cancel: object({ type: literal('cancel'), requestId: int(0) }, PEER),
});
export type ToWorkerMessage = Infer<typeof TO_WORKER>;

/** The worker's check of what the host sends: the shape, before any of it reaches the converter. */
export function parseToWorker(raw: unknown): { ok: true; message: ToWorkerMessage } | { ok: false; reason: string } {
  const read = TO_WORKER.read(raw);
  return isInvalid(read) ? { ok: false, reason: read.reason } : { ok: true, message: read };
}

const FROM_WORKER = union({
  progress: object({ type: literal('progress'), inReplyTo: inReplyToField(), progress: CONVERT_PROGRESS }, PEER),
  done: object({ type: literal('done'), inReplyTo: inReplyToField(), result: CONVERT_RESULT }, PEER),
  /** `userError` marks a problem the user can fix (shown as is); otherwise a bug. */
  // `id`/`args`: a user error's message id and values, so the editor can show it in the user's language.
  failed: object(
    {
      type: literal('failed'),
      inReplyTo: inReplyToField(),
      message: str(),
      code: str(),
      userError: bool(),
      id: optional(str()),
      args: optional(arrayOf(str())),
    },
    PEER,
  ),
  cancelled: object({ type: literal('cancelled'), inReplyTo: inReplyToField() }, PEER),
});
/** Every answer names the convert it answers (src/protocol/messageHandler.ts); all but progress end it. */
export type FromWorkerMessage = Infer<typeof FROM_WORKER>;

/** The host's check of what the worker sends (another thread, so a bug there must not pass as a result). */
export function parseFromWorker(raw: unknown): { ok: true; message: FromWorkerMessage } | { ok: false; reason: string } {
  const read = FROM_WORKER.read(raw);
  return isInvalid(read) ? { ok: false, reason: read.reason } : { ok: true, message: read };
}
