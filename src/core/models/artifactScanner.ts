import * as fs from 'node:fs';
import * as path from 'node:path';
import { recordedMtimeMs } from '../util/fileStamp.ts';
import type { ArtifactKind } from '../store/vocabulary.ts';

export interface FoundArtifact {
  kind: ArtifactKind;
  path: string;
  size: number;
  mtimeMs: number;
  epoch: number | null;
  step: number | null;
}

/** RVC's `-l 1` ("save latest only") writes G_2333333.pth / D_2333333.pth: a marker, not a step. */
export const LATEST_ONLY_STEP = 2333333;

const CHECKPOINT = /^([GD])_(\d+)\.pth$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function statFile(file: string): fs.Stats | undefined {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() ? stat : undefined;
  } catch {
    return undefined;
  }
}

function listFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The files RVC writes for experiment `name` (reference §1.5, §1.11): G_/D_ checkpoints and the
 * `added_*.index` in logs/{name} (the `trained_*` index is an intermediate RVC never loads), small
 * models `assets/weights/{name}_e{E}_s{S}.pth` and `{name}.pth`, and ONNX exports named after the
 * model (`{name}.onnx` or `{name}.<variant>.onnx`) in logs/{name}, assets/weights or onnx/.
 */
export function scanArtifacts(logsDir: string, rvcRoot: string | null, name: string): FoundArtifact[] {
  const found: FoundArtifact[] = [];
  const add = (kind: ArtifactKind, file: string, epoch: number | null, step: number | null): void => {
    const stat = statFile(file);
    if (stat) found.push({ kind, path: file, size: stat.size, mtimeMs: recordedMtimeMs(stat), epoch, step });
  };
  const onnxName = new RegExp(`^${escapeRegExp(name)}(\\.[^/\\\\]+)?\\.onnx$`);
  for (const entry of listFiles(logsDir)) {
    const file = path.join(logsDir, entry);
    const checkpoint = CHECKPOINT.exec(entry);
    if (checkpoint) {
      const step = Number(checkpoint[2]);
      add(checkpoint[1] === 'G' ? 'checkpoint_g' : 'checkpoint_d', file, null, step === LATEST_ONLY_STEP ? null : step);
    } else if (entry.startsWith('added_') && entry.endsWith('.index')) add('index', file, null, null);
    else if (entry.endsWith('.onnx')) add('onnx', file, null, null);
  }
  if (rvcRoot) {
    const weights = path.join(rvcRoot, 'assets', 'weights');
    const small = new RegExp(`^${escapeRegExp(name)}_e(\\d+)_s(\\d+)\\.pth$`);
    for (const entry of listFiles(weights)) {
      const file = path.join(weights, entry);
      const m = small.exec(entry);
      if (m) add('weights', file, Number(m[1]), Number(m[2]));
      else if (entry === `${name}.pth`) add('weights', file, null, null);
      else if (onnxName.test(entry)) add('onnx', file, null, null);
    }
    const onnxDir = path.join(rvcRoot, 'onnx');
    for (const entry of listFiles(onnxDir)) if (onnxName.test(entry)) add('onnx', path.join(onnxDir, entry), null, null);
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}
