import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError } from '../../util/errors.ts';
import { readFileTail } from '../../util/fileTail.ts';
import type { StepContext } from '../engine.ts';
import { slurmGpusArg } from '../launcherWorker.ts';
import { isCudaOom } from '../progress.ts';
import { dumpPythonJson, parsePythonJson } from '../pythonJson.ts';
import { RVC_SCRIPTS } from '../rvcInstall.ts';
import { shuffle } from '../shuffle.ts';
import {
  countFiles,
  exitNote,
  expectedText,
  failure,
  featureDim,
  newerThan,
  readRvcExpect,
  type RvcExpect,
  type RvcStep,
} from './rvcStep.ts';

export type TrainModelExpect = RvcExpect & {
  /** assets/weights/<name>.pth, the small model train.py saves at its end. */
  weights: string;
};

function pretrained(rvcRoot: string, params: StepContext['params'], kind: 'G' | 'D'): string {
  const chosen = kind === 'G' ? params.pretrainG : params.pretrainD;
  if (chosen === 'none') return '';
  if (chosen) return chosen;
  // infer-web.py::get_pretrained_models: the file if it exists, else no pretrained model.
  const relative = `assets/pretrained${params.version === 'v1' ? '' : '_v2'}/${params.if_f0 ? 'f0' : ''}${kind}${params.sample_rate}.pth`;
  return fs.existsSync(path.join(rvcRoot, relative)) ? relative : '';
}

export function configChoice(version: string, sampleRate: string): string {
  // There is no configs/v2/40k.json: the WebUI trains v2 40k models with the v1 40k config.
  return version === 'v1' || sampleRate === '40k' ? `v1/${sampleRate}.json` : `v2/${sampleRate}.json`;
}

/**
 * Builds filelist.txt exactly as click_train does: names present in every input folder, one line
 * each, two mute lines, shuffled, joined by newlines with no final newline.
 */
export function buildFilelist(rvcRoot: string, expDir: string, params: StepContext['params'], random: () => number = Math.random): string {
  const dim = featureDim(params.version);
  const gt = `${expDir}/0_gt_wavs`;
  const feature = `${expDir}/3_feature${dim}`;
  const f0 = `${expDir}/2a_f0`;
  const f0nsf = `${expDir}/2b-f0nsf`;
  const stems = (dir: string): Set<string> => new Set(countFiles(dir, '').map((name) => name.split('.')[0]!));
  let names = [...stems(gt)].filter((n) => stems(feature).has(n));
  if (params.if_f0) names = names.filter((n) => stems(f0).has(n) && stems(f0nsf).has(n));
  const lines = names.map((name) =>
    params.if_f0
      ? `${gt}/${name}.wav|${feature}/${name}.npy|${f0}/${name}.wav.npy|${f0nsf}/${name}.wav.npy|${params.spk_id}`
      : `${gt}/${name}.wav|${feature}/${name}.npy|${params.spk_id}`,
  );
  for (let i = 0; i < 2; i++) {
    const mute = `${rvcRoot}/logs/mute`;
    lines.push(
      params.if_f0
        ? `${mute}/0_gt_wavs/mute${params.sample_rate}.wav|${mute}/3_feature${dim}/mute.npy|${mute}/2a_f0/mute.wav.npy|${mute}/2b-f0nsf/mute.wav.npy|${params.spk_id}`
        : `${mute}/0_gt_wavs/mute${params.sample_rate}.wav|${mute}/3_feature${dim}/mute.npy|${params.spk_id}`,
    );
  }
  return shuffle(lines, random).join('\n');
}

/**
 * config.json as click_train writes it: from configs/inuse/ (which the WebUI creates at start-up)
 * or, on a fresh clone, configs/; fp16_run off when the device has no half precision (config.py's
 * use_fp32_config); json.dump(indent=4, sort_keys=True) plus a newline.
 */
export function buildTrainConfig(rvcRoot: string, version: string, sampleRate: string, isHalf: boolean): string {
  const choice = configChoice(version, sampleRate);
  const inuse = path.join(rvcRoot, 'configs', 'inuse', choice);
  const source = fs.existsSync(inuse) ? inuse : path.join(rvcRoot, 'configs', choice);
  if (!fs.existsSync(source))
    throw new UserError(
      msg`RVC's config ${path.join('configs', choice)} is missing from ${rvcRoot}; restore it from the RVC repository.`,
      'no-rvc-config',
    );
  const config = parsePythonJson(fs.readFileSync(source, 'utf8')) as { train?: Record<string, unknown> };
  if (!isHalf && config.train) config.train.fp16_run = false;
  return dumpPythonJson(config) + '\n';
}

/** train.py's arguments as click_train passes them; `gpus` is -g's value (none: no -g). */
function trainArgs(ctx: StepContext, gpus: string | undefined, pg: string, pd: string): string[] {
  const { params, training } = ctx;
  return [
    RVC_SCRIPTS.train,
    '-e',
    training.name,
    '-sr',
    params.sample_rate,
    '-f0',
    String(params.if_f0),
    '-bs',
    String(params.batch_size),
    ...(gpus ? ['-g', gpus] : []),
    '-te',
    String(params.total_epoch),
    '-se',
    String(params.save_every_epoch),
    ...(pg ? ['-pg', pg] : []),
    ...(pd ? ['-pd', pd] : []),
    '-l',
    String(params.if_latest),
    '-c',
    String(params.if_cache_data_in_gpu),
    '-sw',
    String(params.save_every_weights),
    '-v',
    params.version,
  ];
}

/** RVC's logs/mute (the two silent lines of filelist.txt) must be complete before training. */
function checkMute(rvcRoot: string, params: StepContext['params']): void {
  const mute = path.join(rvcRoot, 'logs', 'mute', '0_gt_wavs', `mute${params.sample_rate}.wav`);
  if (!fs.existsSync(mute)) {
    throw new UserError(
      msg`RVC's logs/mute folder is incomplete (${mute} is missing); restore it from the RVC repository (git checkout logs/mute).`,
      'no-mute',
    );
  }
  const dim = featureDim(params.version);
  if (!fs.existsSync(path.join(rvcRoot, 'logs', 'mute', `3_feature${dim}`))) {
    throw new UserError(msg`RVC's logs/mute/3_feature${dim} folder is missing; restore logs/mute from the RVC repository.`, 'no-mute');
  }
}

/** The epoch being trained: the last "Train Epoch" line, or the one after the last finished epoch (Train Epoch lines only come every log_interval steps). */
function epochReached(text: string): number {
  const started = [...text.matchAll(/Train Epoch: (\d+)/g)].map((m) => Number(m[1]));
  const finished = [...text.matchAll(/====> Epoch: (\d+)/g)].map((m) => Number(m[1]) + 1);
  return Math.max(1, ...started, ...finished);
}

/** RVC's train.py: the model, its checkpoints in logs/<name> and the small model in assets/weights. */
export const trainModelStep: RvcStep<TrainModelExpect> = {
  plan(ctx, { rvcRoot, expDir, gpus, checkGpus, run }) {
    const { params, training } = ctx;
    // On Slurm the GPUs are the ones the job is granted, known only on the node: the launcher
    // writes them into -g there (RVC's own multi-GPU training, `-g 0-1`).
    const slurmGpus = ctx.executor === 'slurm' && ctx.settings['slurm.gpusPerStep'] > 0 ? slurmGpusArg(params.gpus || '0') : undefined;
    if (slurmGpus === undefined) checkGpus(gpus, 'gpus');
    const pg = pretrained(rvcRoot, params, 'G');
    const pd = pretrained(rvcRoot, params, 'D');
    for (const file of [pg, pd]) {
      if (file && !fs.existsSync(path.resolve(rvcRoot, file))) {
        throw new UserError(
          msg`The pretrained model ${file} does not exist; download it (RVC's tools/download_models.py) or set pretrainG/pretrainD to "none".`,
          'no-pretrained',
        );
      }
    }
    const weights = path.join(rvcRoot, 'assets', 'weights', `${training.name}.pth`);
    return { processes: [run(trainArgs(ctx, slurmGpus ?? gpus, pg, pd))], expect: { rvcRoot, expDir, weights } };
  },

  readExpect(expect) {
    return { ...readRvcExpect(expect), weights: expectedText(expect, 'weights') };
  },

  prepare(ctx, plan, { rvcRoot, expDir }) {
    const logs = ctx.logsDir;
    checkMute(rvcRoot, ctx.params);
    fs.writeFileSync(path.join(logs, 'filelist.txt'), buildFilelist(rvcRoot, expDir, ctx.params));
    const configPath = path.join(logs, 'config.json');
    if (!fs.existsSync(configPath)) {
      fs.writeFileSync(configPath, buildTrainConfig(rvcRoot, ctx.params.version, ctx.params.sample_rate, plan.device.isHalf));
    }
    fs.mkdirSync(path.join(rvcRoot, 'assets', 'weights'), { recursive: true });
  },

  judge(ctx, { exit, logTail, startedAt }, { weights }) {
    const trainLogPath = path.join(ctx.logsDir, 'train.log');
    const trainLog = readFileTail(trainLogPath);
    const done = /Training is done/.test(logTail) || (/Training is done/.test(trainLog) && newerThan(trainLogPath, startedAt));
    if (isCudaOom(logTail)) {
      return failure(
        `CUDA out of memory at epoch ${epochReached(`${trainLog}\n${logTail}`)} — lower the batch size (it is ${ctx.params.batch_size}) and run train_model again.`,
        logTail,
      );
    }
    if (!done)
      return failure(
        `Training ended before its last epoch${exitNote(exit)} and RVC never said "Training is done"; no model was saved.`,
        logTail,
      );
    if (!newerThan(weights, startedAt)) {
      return failure(
        `RVC said training is done but wrote no ${weights}; check free disk space and that RVC's assets/weights folder is writable.`,
        logTail,
      );
    }
    return { ok: true, warnings: [], resultModelPath: weights };
  },
};
