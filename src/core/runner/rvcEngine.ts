import * as fs from 'node:fs';
import * as path from 'node:path';
import { shuffle } from './shuffle.ts';
import type { Settings } from '../settings.ts';
import { UserError } from '../util/errors.ts';
import { resolveInside } from '../util/paths.ts';
import { pythonScript } from './device.ts';
import type { Engine, Judgement, StepContext } from './engine.ts';
import { isCudaOom, lastErrorLines } from './progress.ts';
import { dumpPythonJson, parsePythonJson } from './pythonJson.ts';
import type { ExitRecord } from './processes.ts';
import { slurmGpusArg } from './launcherWorker.ts';
import type { TaskPlan } from '../store/taskRepository.ts';
import { readFileTail } from '../util/fileTail.ts';

/** Scripts of RVC WebUI branch 20240604, relative to its root (its working directory). */
export const RVC_SCRIPTS = {
  preprocess: 'infer/modules/train/preprocess.py',
  extractF0: 'infer/modules/train/extract/extract_f0_print.py',
  extractF0Rmvpe: 'infer/modules/train/extract/extract_f0_rmvpe.py',
  extractFeature: 'infer/modules/train/extract_feature_print.py',
  train: 'infer/modules/train/train.py',
} as const;

export const AUDIO_EXTENSIONS = new Set(['.wav', '.flac', '.mp3', '.ogg', '.m4a', '.aac', '.wma', '.opus', '.webm', '.aiff', '.aif']);

const SR_HZ = { '32k': 32000, '40k': 40000, '48k': 48000 } as const;

/** The RVC folder from the settings (or the one the training was imported from), checked. */
export function rvcRootOf(settings: Settings, trainingRoot: string | null): string {
  const root = settings['rvc.root'] || trainingRoot || '';
  if (!root)
    throw new UserError('rvcStudio.rvc.root is not set: point it at your RVC WebUI folder (the one with infer-web.py).', 'no-rvc-root');
  const resolved = path.resolve(root);
  if (!fs.existsSync(resolved) || !fs.statSync(resolved).isDirectory()) {
    throw new UserError(`The RVC folder ${resolved} (rvcStudio.rvc.root) does not exist.`, 'no-rvc-root');
  }
  for (const script of Object.values(RVC_SCRIPTS)) {
    if (!fs.existsSync(path.join(resolved, script))) {
      throw new UserError(
        `${resolved} is not an RVC WebUI folder: ${script} is missing. Set rvcStudio.rvc.root to the folder that holds infer-web.py (branch 20240604 layout).`,
        'bad-rvc-root',
      );
    }
  }
  return resolved;
}

/** The user's Python: the setting, else the RVC install's own environment, else python3 on PATH. */
export function pythonOf(settings: Settings, rvcRoot: string | undefined): string {
  if (settings['rvc.pythonPath']) return settings['rvc.pythonPath'];
  if (rvcRoot) {
    const candidates =
      process.platform === 'win32'
        ? ['runtime/python.exe', '.venv/Scripts/python.exe', 'venv/Scripts/python.exe']
        : ['.venv/bin/python', 'venv/bin/python', 'env/bin/python'];
    for (const candidate of candidates) {
      const full = path.join(rvcRoot, candidate);
      if (fs.existsSync(full)) return full;
    }
  }
  return process.platform === 'win32' ? 'python' : 'python3';
}

/** Audio files RVC's preprocess would read, and whether anything else (hidden folders …) is there too. */
export function listDataset(dir: string): { audio: string[]; other: string[] } {
  const audio: string[] = [];
  const other: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) isFile = fs.statSync(full, { throwIfNoEntry: false })?.isFile() ?? false;
    if (isFile && !entry.name.startsWith('.') && AUDIO_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) audio.push(entry.name);
    else other.push(entry.name);
  }
  return { audio: audio.sort(), other: other.sort() };
}

function countFiles(dir: string, suffix: string): string[] {
  try {
    return fs.readdirSync(dir).filter((name) => name.endsWith(suffix));
  } catch {
    return [];
  }
}

function bool(value: boolean): string {
  return value ? 'True' : 'False';
}

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
  const dim = params.version === 'v1' ? 256 : 768;
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
      `RVC's config ${path.join('configs', choice)} is missing from ${rvcRoot}; restore it from the RVC repository.`,
      'no-rvc-config',
    );
  const config = parsePythonJson(fs.readFileSync(source, 'utf8')) as { train?: Record<string, unknown> };
  if (!isHalf && config.train) config.train.fp16_run = false;
  return dumpPythonJson(config) + '\n';
}

function ensureLogsLink(rvcRoot: string, name: string, logsDir: string): string {
  const expDir = resolveInside(path.join(rvcRoot, 'logs'), name);
  fs.mkdirSync(logsDir, { recursive: true });
  const real = (p: string): string | undefined => {
    try {
      return fs.realpathSync(p);
    } catch {
      return undefined;
    }
  };
  const existing = fs.lstatSync(expDir, { throwIfNoEntry: false });
  if (existing) {
    if (real(expDir) === real(logsDir)) return expDir;
    throw new UserError(
      `${expDir} already exists and is not this training's folder (${logsDir}); rename the training or move that folder out of RVC's logs.`,
      'logs-clash',
    );
  }
  // train.py only takes a name and writes to ./logs/<name> under RVC's folder: a link makes that
  // the workspace's logs/<name>.
  fs.mkdirSync(path.dirname(expDir), { recursive: true });
  fs.symlinkSync(logsDir, expDir, process.platform === 'win32' ? 'junction' : 'dir');
  return expDir;
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

function failure(sentence: string, logTail: string, warnings: string[] = []): Judgement {
  const lines = lastErrorLines(logTail);
  return { ok: false, error: lines.length ? `${sentence}\n${lines.join('\n')}` : sentence, warnings };
}

function exitNote(exit: ExitRecord): string {
  if (exit.error) return ` (${exit.error})`;
  if (exit.signal) return ` (killed by ${exit.signal})`;
  return exit.code ? ` (exit code ${exit.code})` : '';
}

function newerThan(file: string, since: number): boolean {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat !== undefined && stat.mtimeMs >= since - 2000;
}

export const rvcEngine: Engine = {
  name: 'rvc',

  plan(ctx: StepContext): TaskPlan {
    const { params, training } = ctx;
    const rvcRoot = rvcRootOf(ctx.settings, training.rvcRoot);
    const python = pythonOf(ctx.settings, rvcRoot);
    const device = ctx.device();
    const expDir = resolveInside(path.join(rvcRoot, 'logs'), training.name);
    const onCuda = device.device.startsWith('cuda');
    const gpus = onCuda ? params.gpus : '';
    const checkGpus = (list: string, what: string): void => {
      if (!onCuda || device.gpuCount === null) return;
      for (const id of list.split('-').filter(Boolean)) {
        if (Number(id) >= device.gpuCount) {
          throw new UserError(
            `GPU ${id} (${what}) does not exist: the Python sees ${device.gpuCount} CUDA card${device.gpuCount === 1 ? '' : 's'} (numbered from 0).`,
            'bad-gpu',
          );
        }
      }
    };
    const deviceInfo = { device: device.device, isHalf: device.isHalf, source: device.source };
    const base = { cwd: rvcRoot, device: deviceInfo };
    const run = (args: string[], env?: Record<string, string>): TaskPlan['processes'][number] =>
      env ? { command: python, args, env } : { command: python, args };

    switch (ctx.step) {
      case 'preprocess': {
        const dataset = training.datasetPath;
        if (!dataset)
          throw new UserError(`The training "${training.name}" has no dataset folder; set one before preprocessing.`, 'no-dataset');
        if (!fs.existsSync(dataset) || !fs.statSync(dataset).isDirectory()) {
          throw new UserError(
            `The dataset folder ${dataset} does not exist; put the recordings back or point the training at their new folder.`,
            'no-dataset',
          );
        }
        const { audio, other } = listDataset(dataset);
        if (audio.length === 0) {
          throw new UserError(
            `The dataset folder ${dataset} holds no audio files (${[...AUDIO_EXTENSIONS].slice(0, 5).join(', ')} …)${other.length ? `, only ${other.slice(0, 3).join(', ')}` : ''}; add the recordings to train on.`,
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
        return { ...base, processes: [run(args)], expect: { rvcRoot, expDir, dataset, staged, audio, skipped: other } };
      }
      case 'extract_f0': {
        if (!params.if_f0) throw new UserError(`"${training.name}" has pitch guidance off (if_f0=0); it has no f0 to extract.`, 'no-f0');
        if (params.f0_method === 'rmvpe_gpu') {
          if (!onCuda)
            throw new UserError(
              `rmvpe_gpu needs a CUDA card and this runs on ${device.device}; use f0 method rmvpe (CPU) instead.`,
              'no-cuda',
            );
          checkGpus(params.gpus_rmvpe, 'gpus_rmvpe');
          const parts = params.gpus_rmvpe.split('-').filter(Boolean);
          const processes = parts.map((gpu, i) =>
            run([RVC_SCRIPTS.extractF0Rmvpe, String(parts.length), String(i), gpu, expDir, bool(device.isHalf)]),
          );
          return { ...base, processes, expect: { rvcRoot, expDir } };
        }
        return {
          ...base,
          processes: [run([RVC_SCRIPTS.extractF0, expDir, String(params.n_cpu), params.f0_method])],
          expect: { rvcRoot, expDir },
        };
      }
      case 'extract_feature': {
        checkGpus(gpus, 'gpus');
        const parts = gpus ? gpus.split('-').filter(Boolean) : [''];
        const processes = parts.map((gpu, i) => {
          // With no GPU the WebUI's command has an empty i_gpu, which the shell drops: 6 arguments.
          const gpuArg = gpu === '' ? [] : [gpu];
          return run([
            RVC_SCRIPTS.extractFeature,
            device.device,
            String(parts.length),
            String(i),
            ...gpuArg,
            expDir,
            params.version,
            bool(device.isHalf),
          ]);
        });
        return { ...base, processes, expect: { rvcRoot, expDir } };
      }
      case 'train_model': {
        // On Slurm the GPUs are the ones the job is granted, known only on the node: the launcher
        // writes them into -g there (RVC's own multi-GPU training, `-g 0-1`).
        const slurmGpus = ctx.executor === 'slurm' && ctx.settings['slurm.gpusPerStep'] > 0 ? slurmGpusArg(params.gpus || '0') : undefined;
        if (slurmGpus === undefined) checkGpus(gpus, 'gpus');
        const pg = pretrained(rvcRoot, params, 'G');
        const pd = pretrained(rvcRoot, params, 'D');
        for (const file of [pg, pd]) {
          if (file && !fs.existsSync(path.resolve(rvcRoot, file))) {
            throw new UserError(
              `The pretrained model ${file} does not exist; download it (RVC's tools/download_models.py) or set pretrainG/pretrainD to "none".`,
              'no-pretrained',
            );
          }
        }
        const args = [
          RVC_SCRIPTS.train,
          '-e',
          training.name,
          '-sr',
          params.sample_rate,
          '-f0',
          String(params.if_f0),
          '-bs',
          String(params.batch_size),
          ...(slurmGpus ? ['-g', slurmGpus] : gpus ? ['-g', gpus] : []),
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
        const weights = path.join(rvcRoot, 'assets', 'weights', `${training.name}.pth`);
        return { ...base, processes: [run(args)], expect: { rvcRoot, expDir, weights } };
      }
      case 'train_index': {
        const outside = path.join(rvcRoot, 'assets', 'indices');
        const args = [pythonScript('train_index.py'), expDir, training.name, params.version, outside, String(params.n_cpu)];
        return { ...base, processes: [run(args)], expect: { rvcRoot, expDir } };
      }
      default: {
        const never: never = ctx.step;
        return never;
      }
    }
  },

  prepare(ctx: StepContext, plan: TaskPlan): void {
    const rvcRoot = plan.expect.rvcRoot as string;
    ensureLogsLink(rvcRoot, ctx.training.name, ctx.logsDir);
    const logs = ctx.logsDir;
    switch (ctx.step) {
      case 'preprocess': {
        const staged = plan.expect.staged as string | undefined;
        if (staged) stageDataset(plan.expect.dataset as string, staged, plan.expect.audio as string[]);
        // The WebUI truncates the step's log before each run; progress and judging read a fresh one.
        fs.writeFileSync(path.join(logs, 'preprocess.log'), '');
        return;
      }
      case 'extract_f0':
        fs.writeFileSync(path.join(logs, 'extract_f0_feature.log'), '');
        return;
      case 'extract_feature':
        if (!ctx.params.if_f0) fs.writeFileSync(path.join(logs, 'extract_f0_feature.log'), '');
        return;
      case 'train_model': {
        const dim = ctx.params.version === 'v1' ? 256 : 768;
        const mute = path.join(rvcRoot, 'logs', 'mute', '0_gt_wavs', `mute${ctx.params.sample_rate}.wav`);
        if (!fs.existsSync(mute)) {
          throw new UserError(
            `RVC's logs/mute folder is incomplete (${mute} is missing); restore it from the RVC repository (git checkout logs/mute).`,
            'no-mute',
          );
        }
        if (!fs.existsSync(path.join(rvcRoot, 'logs', 'mute', `3_feature${dim}`))) {
          throw new UserError(`RVC's logs/mute/3_feature${dim} folder is missing; restore logs/mute from the RVC repository.`, 'no-mute');
        }
        fs.writeFileSync(path.join(logs, 'filelist.txt'), buildFilelist(rvcRoot, plan.expect.expDir as string, ctx.params));
        const configPath = path.join(logs, 'config.json');
        if (!fs.existsSync(configPath)) {
          fs.writeFileSync(configPath, buildTrainConfig(rvcRoot, ctx.params.version, ctx.params.sample_rate, plan.device.isHalf));
        }
        fs.mkdirSync(path.join(rvcRoot, 'assets', 'weights'), { recursive: true });
        return;
      }
      case 'train_index':
        fs.mkdirSync(path.join(rvcRoot, 'assets', 'indices'), { recursive: true });
        return;
      default: {
        const never: never = ctx.step;
        return never;
      }
    }
  },

  judge(ctx: StepContext, plan: TaskPlan, exit: ExitRecord, logTail: string, startedAt: number): Judgement {
    const logs = ctx.logsDir;
    const dim = ctx.params.version === 'v1' ? 256 : 768;
    const wavs = countFiles(path.join(logs, '1_16k_wavs'), '.wav');
    if (exit.error) return failure(`The step could not start: ${exit.error}. Check rvcStudio.rvc.pythonPath.`, logTail);
    switch (ctx.step) {
      case 'preprocess': {
        const log = readFileTail(path.join(logs, 'preprocess.log'), 1 << 20);
        const results = preprocessResults(log);
        const failed = results.filter((r) => r.reason !== 'Success');
        const warnings = failed.map((r) => `not sliced: ${r.file} (${r.reason.slice(0, 300)})`);
        const skipped = (plan.expect.skipped as string[] | undefined) ?? [];
        if (skipped.length) warnings.push(`skipped what is not audio in the dataset folder: ${skipped.join(', ')}`);
        const gt = countFiles(path.join(logs, '0_gt_wavs'), '.wav');
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
      }
      case 'extract_f0': {
        const missing = wavs.filter(
          (w) => !fs.existsSync(path.join(logs, '2a_f0', `${w}.npy`)) || !fs.existsSync(path.join(logs, '2b-f0nsf', `${w}.npy`)),
        );
        if (exit.code !== 0 || wavs.length === 0 || missing.length > 0) {
          const what =
            wavs.length === 0
              ? 'there is no sliced audio in 1_16k_wavs (run preprocess again)'
              : `${missing.length} of ${wavs.length} sliced files have no f0${missing[0] ? ` (first: ${missing[0]})` : ''}`;
          return failure(`f0 extraction did not finish${exitNote(exit)}: ${what}.`, logTail);
        }
        return { ok: true, warnings: [] };
      }
      case 'extract_feature': {
        if (/Extracting is shut down because/.test(logTail)) {
          return failure(
            `RVC's HuBERT model assets/hubert/hubert_base.pt is missing in ${plan.expect.rvcRoot as string}; download it (python tools/download_models.py) and run extract_feature again.`,
            logTail,
          );
        }
        const missing = wavs.filter((w) => !fs.existsSync(path.join(logs, `3_feature${dim}`, w.replace(/\.wav$/, '.npy'))));
        if (isCudaOom(logTail))
          return failure('CUDA out of memory while extracting features — close other GPU programs or use another GPU.', logTail);
        if (exit.code !== 0 || wavs.length === 0 || missing.length > 0) {
          return failure(
            `feature extraction did not finish${exitNote(exit)}: ${missing.length} of ${wavs.length} sliced files have no 3_feature${dim} file.`,
            logTail,
          );
        }
        return { ok: true, warnings: [] };
      }
      case 'train_model': {
        const trainLog = readFileTail(path.join(logs, 'train.log'));
        const text = `${trainLog}\n${logTail}`;
        const done =
          /Training is done/.test(logTail) || (/Training is done/.test(trainLog) && newerThan(path.join(logs, 'train.log'), startedAt));
        const weights = plan.expect.weights as string;
        if (isCudaOom(logTail)) {
          // The epoch being trained: the last "Train Epoch" line, or the one after the last
          // finished epoch (Train Epoch lines only come every log_interval steps).
          const started = [...text.matchAll(/Train Epoch: (\d+)/g)].map((m) => Number(m[1]));
          const finished = [...text.matchAll(/====> Epoch: (\d+)/g)].map((m) => Number(m[1]) + 1);
          const epoch = Math.max(1, ...started, ...finished);
          return failure(
            `CUDA out of memory at epoch ${epoch} — lower the batch size (it is ${ctx.params.batch_size}) and run train_model again.`,
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
      }
      case 'train_index': {
        if (/No module named '?faiss/.test(logTail))
          return failure(`The Python has no faiss: install faiss-cpu into RVC's environment (pip install faiss-cpu).`, logTail);
        const index = countFiles(logs, '.index').find(
          (f) =>
            f.startsWith('added_') &&
            f.endsWith(`_${ctx.training.name}_${ctx.params.version}.index`) &&
            newerThan(path.join(logs, f), startedAt),
        );
        if (exit.code !== 0 || !index)
          return failure(`The index was not built${exitNote(exit)}: no added_*.index appeared in ${logs}.`, logTail);
        return { ok: true, warnings: [] };
      }
      default: {
        const never: never = ctx.step;
        return never;
      }
    }
  },
};
