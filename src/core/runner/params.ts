import * as os from 'node:os';
import type { Settings } from '../settings.ts';
import type { Training } from '../store/trainings.ts';
import { msg, UserError } from '../util/errors.ts';

/**
 * A run's parameters under the names RVC itself uses (train.py's hparams and the WebUI's fields),
 * so `--set total_epoch=40` means what RVC users expect. Values are resolved once, at enqueue, from
 * the settings, then the training, then --set, and stored in the task's snapshot.
 */
export interface RunParams {
  sample_rate: '32k' | '40k' | '48k';
  version: 'v1' | 'v2';
  if_f0: 0 | 1;
  f0_method: string;
  /** GPUs for training and feature extraction, "0-1"; "" for none. */
  gpus: string;
  /** One rmvpe_gpu process per entry, "0-0-1" (the WebUI's default is gpus twice, "0-0"). */
  gpus_rmvpe: string;
  /** CPU processes for preprocess and CPU f0 extraction. */
  n_cpu: number;
  batch_size: number;
  total_epoch: number;
  save_every_epoch: number;
  /** "" lets the engine pick assets/pretrained{,_v2}/{,f0}G{sr}.pth when it exists; "none" uses none. */
  pretrainG: string;
  pretrainD: string;
  if_latest: 0 | 1;
  if_cache_data_in_gpu: 0 | 1;
  save_every_weights: 0 | 1;
  spk_id: number;
  noparallel: boolean;
}

type Spec =
  | { kind: 'int'; min: number; max: number }
  | { kind: 'bool' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'gpus' }
  | { kind: 'text' };

const PARAM_SPECS: Record<keyof RunParams, Spec> = {
  sample_rate: { kind: 'enum', values: ['32k', '40k', '48k'] },
  version: { kind: 'enum', values: ['v1', 'v2'] },
  if_f0: { kind: 'bool' },
  f0_method: { kind: 'enum', values: ['pm', 'harvest', 'dio', 'rmvpe', 'rmvpe_gpu'] },
  gpus: { kind: 'gpus' },
  gpus_rmvpe: { kind: 'gpus' },
  n_cpu: { kind: 'int', min: 1, max: 256 },
  batch_size: { kind: 'int', min: 1, max: 1024 },
  total_epoch: { kind: 'int', min: 1, max: 100000 },
  save_every_epoch: { kind: 'int', min: 1, max: 100000 },
  pretrainG: { kind: 'text' },
  pretrainD: { kind: 'text' },
  if_latest: { kind: 'bool' },
  if_cache_data_in_gpu: { kind: 'bool' },
  save_every_weights: { kind: 'bool' },
  spk_id: { kind: 'int', min: 0, max: 2333 },
  noparallel: { kind: 'bool' },
};

export const PARAM_NAMES = Object.keys(PARAM_SPECS) as (keyof RunParams)[];

/** The WebUI's own field names, accepted as aliases so values copied from it work. */
const ALIASES: Record<string, keyof RunParams> = {
  sr: 'sample_rate',
  sr2: 'sample_rate',
  version19: 'version',
  if_f0_3: 'if_f0',
  f0method8: 'f0_method',
  f0method: 'f0_method',
  gpus6: 'gpus',
  gpus16: 'gpus',
  np7: 'n_cpu',
  batch_size12: 'batch_size',
  total_epoch11: 'total_epoch',
  save_epoch10: 'save_every_epoch',
  pretrained_G14: 'pretrainG',
  pretrained_D15: 'pretrainD',
  if_save_latest13: 'if_latest',
  if_cache_gpu17: 'if_cache_data_in_gpu',
  if_save_every_weights18: 'save_every_weights',
  spk_id5: 'spk_id',
};

export const GPU_LIST = /^\d{1,2}(-\d{1,2})*$/;

function parseValue(name: keyof RunParams, raw: string | number | boolean): string | number | boolean {
  const spec = PARAM_SPECS[name];
  const text = String(raw).trim();
  switch (spec.kind) {
    case 'int': {
      const value = Number(text);
      if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
        throw new UserError(msg`${name} must be a whole number from ${spec.min} to ${spec.max}, not "${text}".`, 'bad-param');
      }
      return value;
    }
    case 'bool': {
      const lower = text.toLowerCase();
      if (['1', 'true', 'yes', 'on', '是'].includes(lower)) return true;
      if (['0', 'false', 'no', 'off', '否'].includes(lower)) return false;
      throw new UserError(msg`${name} must be 1 or 0 (yes/no), not "${text}".`, 'bad-param');
    }
    case 'enum':
      if (!spec.values.includes(text))
        throw new UserError(msg`${name} must be one of ${spec.values.join(', ')}, not "${text}".`, 'bad-param');
      return text;
    case 'gpus':
      if (text !== '' && !GPU_LIST.test(text)) {
        throw new UserError(msg`${name} "${text}" is not a GPU list; write GPU numbers joined by "-", e.g. 0 or 0-1.`, 'bad-param');
      }
      return text;
    case 'text':
      return text;
    default: {
      const never: never = spec;
      return never;
    }
  }
}

/** Parses `--set key=value` words into raw overrides, refusing unknown keys with the list of known ones. */
export function parseSetOptions(words: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new UserError(msg`--set expects key=value, e.g. --set total_epoch=40; got "${word}".`, 'usage');
    out[word.slice(0, eq).trim()] = word.slice(eq + 1);
  }
  return out;
}

const bit = (value: boolean): 0 | 1 => (value ? 1 : 0);

export function resolveParams(
  settings: Settings,
  training: Training,
  overrides: Record<string, string | number | boolean> = {},
): RunParams {
  const fromTraining = training.params as Record<string, unknown>;
  const params: RunParams = {
    sample_rate: `${training.targetSr / 1000}k` as RunParams['sample_rate'],
    version: training.modelVersion,
    if_f0: bit(training.ifF0),
    f0_method: training.f0Method,
    // A training created with --gpu cpu (or none) runs without GPUs.
    gpus: GPU_LIST.test(training.gpuId) ? training.gpuId : '',
    gpus_rmvpe: GPU_LIST.test(training.gpuId) ? `${training.gpuId}-${training.gpuId}` : '',
    n_cpu: settings['runner.cpuProcesses'] > 0 ? settings['runner.cpuProcesses'] : Math.max(1, Math.ceil(os.cpus().length / 1.5)),
    batch_size: settings['train.batchSize'],
    total_epoch: settings['train.totalEpoch'],
    save_every_epoch: settings['train.saveEveryEpoch'],
    pretrainG: '',
    pretrainD: '',
    if_latest: bit(settings['train.saveLatestOnly']),
    if_cache_data_in_gpu: bit(settings['train.cacheDataInGpu']),
    save_every_weights: bit(settings['train.saveEveryWeights']),
    spk_id: 0,
    noparallel: false,
  };
  const apply = (source: Record<string, unknown>, origin: string, strict: boolean): void => {
    for (const [key, raw] of Object.entries(source)) {
      const name = (PARAM_SPECS as Record<string, unknown>)[key] ? (key as keyof RunParams) : ALIASES[key];
      if (!name) {
        if (strict) throw new UserError(msg`Unknown parameter "${key}" (${origin}); known: ${PARAM_NAMES.join(', ')}.`, 'bad-param');
        continue;
      }
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') continue;
      const value = parseValue(name, raw);
      // parseValue checked the value against the parameter's spec.
      Object.assign(params, { [name]: PARAM_SPECS[name].kind === 'bool' && name !== 'noparallel' ? bit(value === true) : value });
    }
  };
  apply(fromTraining, `training "${training.name}" params`, false);
  apply(overrides, '--set', true);
  if (overrides.gpus !== undefined && overrides.gpus_rmvpe === undefined)
    params.gpus_rmvpe = params.gpus ? `${params.gpus}-${params.gpus}` : '';
  return params;
}
