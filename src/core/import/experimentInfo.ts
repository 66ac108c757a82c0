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
  const targetSr = readTargetSr(logsDir, firstLine);
  const folders = readFeatureFolders(logsDir);
  const modelVersion = readModelVersion(logsDir, firstLine, folders);
  const ifF0 = readIfF0(firstLine, folders);
  const f0Method = readF0Method(logsDir);
  const datasetPath = readDatasetPath(logsDir);
  const hasPreprocessed = hasFiles(path.join(logsDir, '0_gt_wavs')) && hasFiles(path.join(logsDir, '1_16k_wavs'));
  const hasExtracted = (folders.has768 || folders.has256) && (!ifF0 || folders.hasF0);
  const resultModelPath = readResultModelPath(rvcRoot, name);
  const status = readStatus(logsDir, resultModelPath, hasExtracted);
  return { targetSr, modelVersion, ifF0, f0Method, datasetPath, hasPreprocessed, hasExtracted, status, resultModelPath };
}

/** config.json is what training itself used, so it wins; the log's dump covers a folder that lost it. */
function readTargetSr(logsDir: string, firstLine: string): SampleRate {
  let targetSr: SampleRate | undefined;
  try {
    const config = JSON.parse(readText(path.join(logsDir, 'config.json'))) as { data?: { sampling_rate?: unknown } };
    targetSr = SAMPLE_RATES[String(config.data?.sampling_rate)];
  } catch {
    // no or unreadable config.json: fall back to the log
  }
  return targetSr ?? SAMPLE_RATES[/'sample_rate': '(\d+k)'/.exec(firstLine)?.[1] ?? ''] ?? 40000;
}

/** Which feature-extraction outputs exist: the fallback evidence for version, f0 and progress. */
interface FeatureFolders {
  has768: boolean;
  has256: boolean;
  hasF0: boolean;
}

function readFeatureFolders(logsDir: string): FeatureFolders {
  return {
    has768: hasFiles(path.join(logsDir, '3_feature768')),
    has256: hasFiles(path.join(logsDir, '3_feature256')),
    hasF0: hasFiles(path.join(logsDir, '2a_f0')) && hasFiles(path.join(logsDir, '2b-f0nsf')),
  };
}

/** The log's dump, else the feature folder's width, else an index file's name suffix, else v2 (the WebUI's default). */
function readModelVersion(logsDir: string, firstLine: string, folders: FeatureFolders): ModelVersion {
  const versionInLog = /'version': '(v[12])'/.exec(firstLine)?.[1] as ModelVersion | undefined;
  const folderVersion: ModelVersion | undefined = folders.has768 ? 'v2' : folders.has256 ? 'v1' : undefined;
  return versionInLog ?? folderVersion ?? indexFileVersion(logsDir) ?? 'v2';
}

/** added_IVF…_v2.index (and trained_…) carry the version in their name. */
function indexFileVersion(logsDir: string): ModelVersion | undefined {
  try {
    return fs
      .readdirSync(logsDir)
      .map((f) => /_(v[12])\.index$/.exec(f)?.[1])
      .find(Boolean) as ModelVersion | undefined;
  } catch {
    return undefined;
  }
}

/** Without the log's word, f0 folders mean pitch-guided, and so does a folder with no features yet (the WebUI's default). */
function readIfF0(firstLine: string, folders: FeatureFolders): boolean {
  const f0InLog = /'if_f0': (\d)/.exec(firstLine)?.[1];
  if (f0InLog !== undefined) return f0InLog === '1';
  return folders.hasF0 || !(folders.has768 || folders.has256);
}

/** The f0 extraction log's first line is the command that ran: its script (rmvpe on GPU) or its method argument. */
function readF0Method(logsDir: string): F0Method {
  const f0Log = readText(path.join(logsDir, 'extract_f0_feature.log'), 16 * 1024).split('\n', 1)[0] ?? '';
  if (/extract_f0_rmvpe(_dml)?\.py/.test(f0Log)) return 'rmvpe_gpu';
  const method = /extract_f0_print\.py\s+\S+\s+\d+\s+(\w+)/.exec(f0Log)?.[1];
  return method && (F0_METHODS as string[]).includes(method) ? (method as F0Method) : 'rmvpe';
}

/** preprocess.log lists each wav it sliced ("<path>\t-> ..."); the first one's folder is the dataset, if it still exists. */
function readDatasetPath(logsDir: string): string | null {
  const wav = /^(.+\.\w+)\t-> /m.exec(readText(path.join(logsDir, 'preprocess.log'), 64 * 1024))?.[1];
  const datasetDir = wav ? path.dirname(wav) : null;
  return datasetDir && fs.existsSync(datasetDir) ? datasetDir : null;
}

/** The WebUI saves the finished small model as assets/weights/{name}.pth in the RVC install. */
function readResultModelPath(rvcRoot: string | null, name: string): string | null {
  const finalModel = rvcRoot ? path.join(rvcRoot, 'assets', 'weights', `${name}.pth`) : null;
  return finalModel && fs.existsSync(finalModel) ? finalModel : null;
}

/** Finished if its model exists or the log says so (the model may have been moved); ready once features are extracted. */
function readStatus(logsDir: string, resultModelPath: string | null, hasExtracted: boolean): TrainingStatus {
  const done = /Training is done/.test(readFileTail(path.join(logsDir, 'train.log')));
  if (resultModelPath || done) return 'finished';
  return hasExtracted ? 'ready' : 'draft';
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
