import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Settings } from '../settings.ts';
import { msg, UserError } from '../util/errors.ts';
import { resolveInside } from '../util/paths.ts';

/** Scripts of RVC WebUI branch 20240604, relative to its root (its working directory). */
export const RVC_SCRIPTS = {
  preprocess: 'infer/modules/train/preprocess.py',
  extractF0: 'infer/modules/train/extract/extract_f0_print.py',
  extractF0Rmvpe: 'infer/modules/train/extract/extract_f0_rmvpe.py',
  extractFeature: 'infer/modules/train/extract_feature_print.py',
  train: 'infer/modules/train/train.py',
} as const;

export const AUDIO_EXTENSIONS = new Set(['.wav', '.flac', '.mp3', '.ogg', '.m4a', '.aac', '.wma', '.opus', '.webm', '.aiff', '.aif']);

/** The RVC folder from the settings (or the one the training was imported from), checked. */
export function rvcRootOf(settings: Settings, trainingRoot: string | null): string {
  const root = settings['rvc.root'] || trainingRoot || '';
  if (!root)
    throw new UserError(msg`rvcStudio.rvc.root is not set: point it at your RVC WebUI folder (the one with infer-web.py).`, 'no-rvc-root');
  const resolved = path.resolve(root);
  if (!fs.existsSync(resolved) || !fs.statSync(resolved).isDirectory()) {
    throw new UserError(msg`The RVC folder ${resolved} (rvcStudio.rvc.root) does not exist.`, 'no-rvc-root');
  }
  for (const script of Object.values(RVC_SCRIPTS)) {
    if (!fs.existsSync(path.join(resolved, script))) {
      throw new UserError(
        msg`${resolved} is not an RVC WebUI folder: ${script} is missing. Set rvcStudio.rvc.root to the folder that holds infer-web.py (branch 20240604 layout).`,
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

/**
 * train.py only takes a name and writes to ./logs/<name> under RVC's folder: a link makes that the
 * workspace's logs/<name>. An existing folder of that name must already be this training's.
 */
export function ensureLogsLink(rvcRoot: string, name: string, logsDir: string): string {
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
      msg`${expDir} already exists and is not this training's folder (${logsDir}); rename the training or move that folder out of RVC's logs.`,
      'logs-clash',
    );
  }
  fs.mkdirSync(path.dirname(expDir), { recursive: true });
  fs.symlinkSync(logsDir, expDir, process.platform === 'win32' ? 'junction' : 'dir');
  return expDir;
}
