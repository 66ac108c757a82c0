import * as fs from 'node:fs';
import * as path from 'node:path';
import type { F0Method, ModelVersion, SampleRate, TrainingStatus } from '../store/trainings.ts';
import { readFileTail } from '../util/fileTail.ts';

/** What an RVC experiment folder says about itself, read from the files RVC left in it. */
export interface ExperimentInfo {
  targetSr: SampleRate;
  modelVersion: ModelVersion;
  ifF0: boolean;
  f0Method: F0Method;
  datasetPath: string | null;
  hasPreprocessed: boolean;
  hasExtracted: boolean;
  status: TrainingStatus;
  resultModelPath: string | null;
}

const SAMPLE_RATES: Record<string, SampleRate> = {
  '32k': 32000,
  '40k': 40000,
  '48k': 48000,
  '32000': 32000,
  '40000': 40000,
  '48000': 48000,
};
const F0_METHODS: F0Method[] = ['pm', 'harvest', 'dio', 'rmvpe'];

function hasFiles(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((name) => !name.startsWith('.'));
  } catch {
    return false;
  }
}

function readText(file: string, maxBytes = 1 << 20): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(maxBytes, fs.fstatSync(fd).size));
      const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
      return buffer.toString('utf8', 0, read);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/**
 * Sample rate from config.json (`data.sampling_rate`), else from the hyper-parameter dump on
 * train.log's first line (which the WebUI itself reads back); version and f0 from that dump, else
 * from the folders (3_feature768 = v2, 3_feature256 = v1; 2a_f0 present = pitch-guided); the f0
 * method from extract_f0_feature.log's first line; the dataset folder from preprocess.log.
 */
export function readExperimentInfo(logsDir: string, rvcRoot: string | null, name: string): ExperimentInfo {
  const firstLine = readText(path.join(logsDir, 'train.log'), 64 * 1024).split('\n', 1)[0] ?? '';
  let targetSr: SampleRate | undefined;
  try {
    const config = JSON.parse(readText(path.join(logsDir, 'config.json'))) as { data?: { sampling_rate?: unknown } };
    targetSr = SAMPLE_RATES[String(config.data?.sampling_rate)];
  } catch {
    // no or unreadable config.json: fall back to the log
  }
  targetSr ??= SAMPLE_RATES[/'sample_rate': '(\d+k)'/.exec(firstLine)?.[1] ?? ''] ?? 40000;

  const has768 = hasFiles(path.join(logsDir, '3_feature768'));
  const has256 = hasFiles(path.join(logsDir, '3_feature256'));
  const hasF0 = hasFiles(path.join(logsDir, '2a_f0')) && hasFiles(path.join(logsDir, '2b-f0nsf'));
  const versionInLog = /'version': '(v[12])'/.exec(firstLine)?.[1] as ModelVersion | undefined;
  const indexVersion = (() => {
    try {
      return fs
        .readdirSync(logsDir)
        .map((f) => /_(v[12])\.index$/.exec(f)?.[1])
        .find(Boolean) as ModelVersion | undefined;
    } catch {
      return undefined;
    }
  })();
  const modelVersion: ModelVersion = versionInLog ?? (has768 ? 'v2' : has256 ? 'v1' : (indexVersion ?? 'v2'));
  const f0InLog = /'if_f0': (\d)/.exec(firstLine)?.[1];
  const ifF0 = f0InLog !== undefined ? f0InLog === '1' : hasF0 || !(has768 || has256);

  const f0Log = readText(path.join(logsDir, 'extract_f0_feature.log'), 16 * 1024).split('\n', 1)[0] ?? '';
  let f0Method: F0Method = 'rmvpe';
  if (/extract_f0_rmvpe(_dml)?\.py/.test(f0Log)) f0Method = 'rmvpe_gpu';
  else {
    const method = /extract_f0_print\.py\s+\S+\s+\d+\s+(\w+)/.exec(f0Log)?.[1];
    if (method && (F0_METHODS as string[]).includes(method)) f0Method = method as F0Method;
  }

  const wav = /^(.+\.\w+)\t-> /m.exec(readText(path.join(logsDir, 'preprocess.log'), 64 * 1024))?.[1];
  const datasetDir = wav ? path.dirname(wav) : null;
  const datasetPath = datasetDir && fs.existsSync(datasetDir) ? datasetDir : null;

  const hasPreprocessed = hasFiles(path.join(logsDir, '0_gt_wavs')) && hasFiles(path.join(logsDir, '1_16k_wavs'));
  const hasExtracted = (has768 || has256) && (!ifF0 || hasF0);
  const finalModel = rvcRoot ? path.join(rvcRoot, 'assets', 'weights', `${name}.pth`) : null;
  const resultModelPath = finalModel && fs.existsSync(finalModel) ? finalModel : null;
  const done = /Training is done/.test(readFileTail(path.join(logsDir, 'train.log')));
  const status: TrainingStatus = resultModelPath || done ? 'finished' : hasExtracted ? 'ready' : 'draft';
  return { targetSr, modelVersion, ifF0, f0Method, datasetPath, hasPreprocessed, hasExtracted, status, resultModelPath };
}

const MARKERS = ['config.json', 'train.log', 'filelist.txt', 'preprocess.log', '0_gt_wavs'];

/** Does this folder look like an RVC experiment (logs/{name})? */
export function isExperimentDir(dir: string): boolean {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return false;
  }
  return entries.some((e) => MARKERS.includes(e) || /^[GD]_\d+\.pth$/.test(e) || e.startsWith('events.out.tfevents.'));
}
