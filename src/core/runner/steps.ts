import type { Training } from '../store/trainings.ts';
import { msg, type Message } from '../util/errors.ts';
import type { StepType } from '../store/vocabulary.ts';

/**
 * Steps that hold a GPU when the device is CUDA: feature extraction and training always, f0
 * extraction only with rmvpe_gpu. preprocess and train_index are CPU work.
 */
export function usesGpu(step: StepType, f0Method: string): boolean {
  if (step === 'extract_feature' || step === 'train_model') return true;
  return step === 'extract_f0' && f0Method === 'rmvpe_gpu';
}

/**
 * What a step needs done first, checked against the training's state when the task is claimed; the
 * message says which step to run.
 */
export function unmetDependency(step: StepType, training: Training): Message | undefined {
  const { name } = training;
  // The step to run first is a step's own name, never translated, so it is an argument of whole sentences.
  const first = training.hasPreprocessed ? 'extract_feature' : 'preprocess';
  switch (step) {
    case 'preprocess':
      return undefined;
    case 'extract_f0':
      if (!training.ifF0) return msg`"${name}" is a model without pitch guidance (f0 off); it has no f0 to extract`;
      return training.hasPreprocessed
        ? undefined
        : msg`extract_f0 needs the sliced audio of preprocess: run "preprocess" for "${name}" first`;
    case 'extract_feature':
      return training.hasPreprocessed
        ? undefined
        : msg`extract_feature needs the sliced audio of preprocess: run "preprocess" for "${name}" first`;
    case 'train_model':
      if (training.hasExtracted) return undefined;
      return training.ifF0
        ? msg`train_model needs the extracted features and f0: run "${first}" for "${name}" first`
        : msg`train_model needs the extracted features: run "${first}" for "${name}" first`;
    case 'train_index':
      return training.hasExtracted ? undefined : msg`train_index needs the extracted features: run "${first}" for "${name}" first`;
    default: {
      const never: never = step;
      return never;
    }
  }
}

/** The steps `run NAME all` still has to do, in order, judged by the training's state. */
export function remainingSteps(training: Training): StepType[] {
  const steps: StepType[] = [];
  if (!training.hasPreprocessed) steps.push('preprocess');
  if (!training.hasExtracted) {
    if (training.ifF0) steps.push('extract_f0');
    steps.push('extract_feature');
  }
  if (training.status !== 'finished') steps.push('train_model');
  steps.push('train_index');
  return steps;
}
