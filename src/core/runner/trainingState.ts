import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Training, TrainingPatch } from '../store/trainings.ts';
import type { StepType } from '../store/vocabulary.ts';

/**
 * Whether every sliced file has its features (and pitch, for f0 models): RVC's extractors skip
 * files already done, so "complete" is read from the folders, not from which task ran last.
 */
export function extractionComplete(logsDir: string, version: string, ifF0: boolean): boolean {
  const list = (dir: string): Set<string> => {
    try {
      return new Set(fs.readdirSync(path.join(logsDir, dir)));
    } catch {
      return new Set();
    }
  };
  const wavs = [...list('1_16k_wavs')].filter((n) => n.endsWith('.wav'));
  if (wavs.length === 0) return false;
  const features = list(version === 'v1' ? '3_feature256' : '3_feature768');
  const f0 = list('2a_f0');
  const f0nsf = list('2b-f0nsf');
  return wavs.every((w) => features.has(w.replace(/\.wav$/, '.npy')) && (!ifF0 || (f0.has(`${w}.npy`) && f0nsf.has(`${w}.npy`))));
}

export type StepOutcome = 'started' | 'success' | 'failed' | 'cancelled';

/**
 * The training's state after one of its steps started or ended: draft → ready (preprocessed and
 * extracted) → training → finished | failed.
 */
export function trainingPatchFor(
  training: Training,
  step: StepType,
  outcome: StepOutcome,
  facts: { extractionComplete?: boolean; resultModelPath?: string; interrupted?: boolean },
): TrainingPatch {
  const patch: TrainingPatch = {};
  const readyIfExtracted = (hasPreprocessed: boolean, hasExtracted: boolean): void => {
    if (hasPreprocessed && hasExtracted && (training.status === 'draft' || training.status === 'failed')) patch.status = 'ready';
  };
  switch (step) {
    case 'preprocess':
      if (outcome === 'success') {
        patch.hasPreprocessed = true;
        readyIfExtracted(true, training.hasExtracted);
      }
      break;
    case 'extract_f0':
    case 'extract_feature':
      if (outcome === 'success' && facts.extractionComplete !== undefined) {
        patch.hasExtracted = facts.extractionComplete;
        readyIfExtracted(training.hasPreprocessed, facts.extractionComplete);
      }
      break;
    case 'train_model':
      if (outcome === 'started') patch.status = 'training';
      else if (outcome === 'success') {
        patch.status = 'finished';
        if (facts.resultModelPath) patch.resultModelPath = facts.resultModelPath;
      } else if (outcome === 'failed') patch.status = 'failed';
      // A cancelled run leaves the checkpoints; a finished model stays finished, else it is ready to resume.
      else patch.status = training.resultModelPath ? 'finished' : training.hasExtracted ? 'ready' : 'draft';
      break;
    case 'train_index':
      break;
    default: {
      const never: never = step;
      return never;
    }
  }
  return patch;
}
