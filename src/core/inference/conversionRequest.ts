import * as path from 'node:path';
import { CONVERT_DEFAULTS, F0_ESTIMATORS, type ConvertParams, type F0Estimator } from '../../protocol/inferenceWorkerProtocol.ts';
import { contentVecFor, type AuxModelId } from './auxModels.ts';
import { msg, UserError } from '../util/errors.ts';
import { resolveModelSampleRate } from './modelSampleRate.ts';
import { readModelVersion } from './modelVersion.ts';
import { checkParams } from './voiceConverter.ts';

/**
 * The one place a conversion's parameters are built, for the CLI (`infer`, `infer rerun`) and the
 * inference panel (Convert, Convert folder, Re-run): the user's choices in, a complete ConvertParams
 * out — defaults filled in, every path confined by the caller's rules, the model's sample rate
 * resolved, ContentVec and RMVPE taken from the per-user cache where the caller has one, and the
 * ranges checked (checkParams, the converter's own check). A front end only says what the user chose
 * and where files may come from; it no longer builds ConvertParams itself.
 */

/**
 * What the user chose. Only the model, input and output are required; anything left out takes
 * RVC's default (CONVERT_DEFAULTS). A stored ConvertParams (a history row, old ones lacking the
 * newer fields) is a valid request too, which is how a re-run goes through here.
 */
export interface ConversionRequest {
  modelPath: string;
  inputPath: string;
  outputPath: string;
  /** '' or null: the cached one for the model's version (when the caller has a cache). */
  contentVecPath?: string | null;
  indexPath?: string | null;
  /** Left out: rmvpe when an RMVPE file is given, else CONVERT_DEFAULTS.f0Method. */
  f0Method?: string | null;
  /** null for rmvpe: the cached one (when the caller has a cache). */
  rmvpePath?: string | null;
  /** RVC's "F0 curve file" (`time,f0` lines). */
  f0CurvePath?: string | null;
  /** A `.npy` of the raw tracker output for the padded input, in place of the tracker. */
  f0RawPath?: string | null;
  noNoise?: boolean | null;
  dumpStagesDir?: string | null;
  /** "40k", 40000 …; 0, '' or null: from the model's sidecar, its graph or its training. */
  modelSampleRate?: string | number | null;
  transpose?: number | null;
  indexRate?: number | null;
  filterRadius?: number | null;
  rmsMixRate?: number | null;
  protect?: number | null;
  resampleSr?: number | null;
  sid?: number | null;
  seed?: number | null;
  threads?: number | null;
}

/** The path fields of a conversion, as a confinement rule sees them. */
export type ConversionPathField = 'model' | 'input' | 'output' | 'contentVec' | 'index' | 'rmvpe' | 'f0Curve' | 'f0Raw' | 'dumpStages';

/** What the front end supplies: where files may come from, its limits, and what it can look up. */
export interface ConversionPorts {
  /** Where `.pth` exports are cached (the workspace's .rvc-studio/models); null = beside the output. */
  exportDir: string | null;
  maxSeconds: number;
  /**
   * Resolves one path to the absolute file the conversion may use, or throws saying why not (the
   * panel's workspace and RVC-root rules, in the user's language). Left out: path.resolve.
   */
  confine?: (file: string, field: ConversionPathField) => string;
  /** The target rate of the training the model came from (resolveModelSampleRate's last source). */
  trainingSampleRate?: (modelPath: string, modelBaseName: string) => number | null;
  /** The per-user cache: the cached file, or a UserError saying how to fetch it. Left out: nothing is filled in. */
  auxModel?: (id: AuxModelId) => string;
  /** The model's RVC version, which picks the ContentVec; left out: read from the file. */
  modelVersion?: (modelPath: string) => Promise<'v1' | 'v2'>;
}

/** The user's choices as a complete, confined and range-checked ConvertParams; a UserError says what is wrong. */
export async function resolveConversion(request: ConversionRequest, ports: ConversionPorts): Promise<ConvertParams> {
  const confine = ports.confine ?? ((file: string) => path.resolve(file));
  const optional = (file: string | null | undefined, field: ConversionPathField): string | null => (file ? confine(file, field) : null);
  const modelPath = confine(request.modelPath, 'model');
  const params: ConvertParams = {
    modelPath,
    exportDir: ports.exportDir,
    inputPath: confine(request.inputPath, 'input'),
    outputPath: confine(request.outputPath, 'output'),
    modelSampleRate: modelSampleRate(modelPath, request.modelSampleRate, ports),
    contentVecPath: optional(request.contentVecPath, 'contentVec') ?? '',
    f0Method: f0MethodOf(request),
    rmvpePath: optional(request.rmvpePath, 'rmvpe'),
    f0CurvePath: optional(request.f0CurvePath, 'f0Curve'),
    f0RawPath: optional(request.f0RawPath, 'f0Raw'),
    noNoise: request.noNoise ?? CONVERT_DEFAULTS.noNoise,
    dumpStagesDir: optional(request.dumpStagesDir, 'dumpStages'),
    indexPath: optional(request.indexPath, 'index'),
    ...numbersOf(request),
    maxSeconds: ports.maxSeconds,
  };
  const filled = await withCachedAuxModels(params, ports, confine);
  checkParams(filled);
  return filled;
}

function modelSampleRate(modelPath: string, chosen: ConversionRequest['modelSampleRate'], ports: ConversionPorts): number {
  const lookup = ports.trainingSampleRate;
  return resolveModelSampleRate(modelPath, {
    explicit: chosen || null,
    ...(lookup ? { fromTraining: (base: string) => lookup(modelPath, base) } : {}),
  }).sampleRate;
}

function f0MethodOf(request: ConversionRequest): F0Estimator {
  const method = request.f0Method || (request.rmvpePath ? 'rmvpe' : CONVERT_DEFAULTS.f0Method);
  if (!(F0_ESTIMATORS as readonly string[]).includes(method))
    throw new UserError(msg`f0 method "${method}" is not one of ${F0_ESTIMATORS.join(', ')}.`, 'usage');
  return method as F0Estimator;
}

/** The numeric parameters, RVC's default where the user chose none; checkParams checks the ranged ones. */
function numbersOf(request: ConversionRequest): Pick<ConvertParams, NumberParam | 'seed' | 'threads'> {
  const pick = (key: NumberParam): number => request[key] ?? CONVERT_DEFAULTS[key];
  const seed = request.seed ?? CONVERT_DEFAULTS.seed;
  const threads = request.threads ?? CONVERT_DEFAULTS.threads;
  if (seed !== null && !(Number.isInteger(seed) && seed >= 0))
    throw new UserError(msg`seed must be a whole number ≥ 0 (got ${seed}).`, 'usage');
  if (!(Number.isInteger(threads) && threads >= 0)) throw new UserError(msg`threads must be a whole number ≥ 0 (got ${threads}).`, 'usage');
  return {
    transpose: pick('transpose'),
    indexRate: pick('indexRate'),
    filterRadius: pick('filterRadius'),
    rmsMixRate: pick('rmsMixRate'),
    protect: pick('protect'),
    resampleSr: pick('resampleSr'),
    sid: pick('sid'),
    seed,
    threads,
  };
}

type NumberParam = 'transpose' | 'indexRate' | 'filterRadius' | 'rmsMixRate' | 'protect' | 'resampleSr' | 'sid';

/**
 * Fills in what the user left out from the caller's cache: the ContentVec the voice's version needs
 * (v1 → 256/L9, v2 → 768/L12) and RMVPE for rmvpe (unless a recorded f0 stands in for the tracker).
 */
async function withCachedAuxModels(
  params: ConvertParams,
  ports: ConversionPorts,
  confine: (file: string, field: ConversionPathField) => string,
): Promise<ConvertParams> {
  const cached = ports.auxModel;
  if (!cached) return params;
  const filled = { ...params };
  if (!filled.contentVecPath) {
    const version = await (ports.modelVersion ?? readModelVersion)(params.modelPath);
    filled.contentVecPath = confine(cached(contentVecFor(version)), 'contentVec');
  }
  if (filled.f0Method === 'rmvpe' && !filled.rmvpePath && !filled.f0RawPath) filled.rmvpePath = confine(cached('rmvpe'), 'rmvpe');
  return filled;
}
