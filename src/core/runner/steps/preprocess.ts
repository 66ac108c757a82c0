import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError } from '../../util/errors.ts';
import { readFileTail } from '../../util/fileTail.ts';
import { resolveInside } from '../../util/paths.ts';
import { AUDIO_EXTENSIONS, listDataset, RVC_SCRIPTS } from '../rvcInstall.ts';
import type { TaskPlan } from '../taskSnapshot.ts';
import {
  bool,
  countFiles,
  expectedNames,
  expectedText,
  exitNote,
  failure,
  optionalText,
  readRvcExpect,
  type RvcExpect,
  type RvcStep,
} from './rvcStep.ts';

const SR_HZ = { '32k': 32000, '40k': 40000, '48k': 48000 } as const;

export type PreprocessExpect = RvcExpect & {
  dataset: string;
  /** The folder of links to the audio files that preprocess reads instead of `dataset`, when that holds more. */
  staged?: string | undefined;
  audio: string[];
  /** What the dataset folder holds that is not audio. */
  skipped: string[];
};

function checkedDataset(training: { name: string; datasetPath: string | null }): string {
  const dataset = training.datasetPath;
  if (!dataset)
    throw new UserError(msg`The training "${training.name}" has no dataset folder; set one before preprocessing.`, 'no-dataset');
  if (!fs.existsSync(dataset) || !fs.statSync(dataset).isDirectory()) {
    throw new UserError(
      msg`The dataset folder ${dataset} does not exist; put the recordings back or point the training at their new folder.`,
      'no-dataset',
    );
  }
  return dataset;
}

function stageDataset(datasetDir: string, stagedDir: string, audio: string[]): void {
  fs.rmSync(stagedDir, { recursive: true, force: true });
  fs.mkdirSync(stagedDir, { recursive: true });
  for (const name of audio) {
    const from = path.join(datasetDir, name);
    const to = path.join(stagedDir, name);
    try {
      fs.symlinkSync(from, to, 'file');
    } catch {
      // No symlinks here (Windows without developer mode, some network shares): copy instead;
      // copyFileSync reports any fault that is not about links.
      fs.copyFileSync(from, to);
    }
  }
}

/**
 * preprocess.log's per-file results: "{path}\t-> Success" or "{path}\t-> {traceback}", where the
 * traceback runs over several lines; its last line says what went wrong.
 */
export function preprocessResults(log: string): { file: string; reason: string }[] {
  const results: { file: string; lines: string[] }[] = [];
  for (const line of log.split(/\r?\n/)) {
    const at = line.indexOf('\t-> ');
    if (at >= 0) results.push({ file: line.slice(0, at), lines: [line.slice(at + 4)] });
    else if (line === 'end preprocess' || line === 'start preprocess') continue;
    else if (results.length > 0 && line.trim()) results[results.length - 1]!.lines.push(line.trim());
  }
  return results.map((r) => ({ file: r.file, reason: r.lines[0] === 'Success' ? 'Success' : r.lines[r.lines.length - 1]! }));
}

/** The audio files a preprocess plan found, for its progress; undefined for other steps' plans. */
export function plannedAudio(plan: TaskPlan | undefined): string[] | undefined {
  return plan ? expectedNames(plan.expect, 'audio') : undefined;
}

/** The staging folder a preprocess plan made, to remove once the step ended; undefined for other plans. */
export function stagedFolder(plan: TaskPlan | undefined): string | undefined {
  return plan ? optionalText(plan.expect, 'staged') : undefined;
}

/** RVC's preprocess.py: slices the dataset into 0_gt_wavs and 1_16k_wavs. */
export const preprocessStep: RvcStep<PreprocessExpect> = {
  plan(ctx, { rvcRoot, expDir, device, run }) {
    const { params } = ctx;
    const dataset = checkedDataset(ctx.training);
    const { audio, other } = listDataset(dataset);
    if (audio.length === 0) {
      throw new UserError(
        msg`The dataset folder ${dataset} holds no audio files (${[...AUDIO_EXTENSIONS].slice(0, 5).join(', ')} …)${other.length ? `, only ${other.slice(0, 3).join(', ')}` : ''}; add the recordings to train on.`,
        'empty-dataset',
      );
    }
    // RVC's preprocess tries every entry of the folder and trips over hidden folders such as
    // .ipynb_checkpoints (RVC #2048): give it a folder of links to the audio files only.
    const staged = other.length > 0 ? resolveInside(ctx.store.storeDir, 'staging', ctx.taskId) : undefined;
    const input = staged ?? dataset;
    const args = [
      RVC_SCRIPTS.preprocess,
      input,
      String(SR_HZ[params.sample_rate]),
      String(params.n_cpu),
      expDir,
      bool(params.noparallel),
      device.preprocessPer.toFixed(1),
    ];
    return { processes: [run(args)], expect: { rvcRoot, expDir, dataset, staged, audio, skipped: other } };
  },

  readExpect(expect) {
    return {
      ...readRvcExpect(expect),
      dataset: expectedText(expect, 'dataset'),
      staged: optionalText(expect, 'staged'),
      audio: expectedNames(expect, 'audio') ?? [],
      skipped: expectedNames(expect, 'skipped') ?? [],
    };
  },

  prepare(ctx, _plan, expect) {
    if (expect.staged) stageDataset(expect.dataset, expect.staged, expect.audio);
    // The WebUI truncates the step's log before each run; progress and judging read a fresh one.
    fs.writeFileSync(path.join(ctx.logsDir, 'preprocess.log'), '');
  },

  judge(ctx, { exit, logTail }, expect) {
    const logs = ctx.logsDir;
    const log = readFileTail(path.join(logs, 'preprocess.log'), 1 << 20);
    const results = preprocessResults(log);
    const failed = results.filter((r) => r.reason !== 'Success');
    const warnings = failed.map((r) => `not sliced: ${r.file} (${r.reason.slice(0, 300)})`);
    if (expect.skipped.length) warnings.push(`skipped what is not audio in the dataset folder: ${expect.skipped.join(', ')}`);
    const gt = countFiles(path.join(logs, '0_gt_wavs'), '.wav');
    const wavs = countFiles(path.join(logs, '1_16k_wavs'), '.wav');
    if (exit.code !== 0) return failure(`preprocess stopped${exitNote(exit)}.`, logTail, warnings);
    if (gt.length === 0 || wavs.length === 0) {
      return failure(
        results.length > 0 && failed.length === results.length
          ? `preprocess could not read any of the ${results.length} audio files (is ffmpeg installed for RVC's Python?).`
          : 'preprocess wrote no sliced audio to 0_gt_wavs/1_16k_wavs; check the dataset files.',
        log || logTail,
        warnings,
      );
    }
    return { ok: true, warnings };
  },
};
