import type { Store } from '../store/store.ts';
import { datedArtifactSteps } from '../store/artifactRepository.ts';
import { assignEpochs } from '../store/metricsRepository.ts';

/**
 * Steps per epoch of a training, from the saved small models (`{name}_e{E}_s{S}.pth`: S global
 * steps after E epochs) or, failing that, from the checkpoints whose epoch is known. RVC's loader
 * yields the same number of batches every epoch, so one exact pair is enough; pairs that disagree
 * (a resumed run with a different batch size) give no answer rather than a wrong one.
 */
export function stepsPerEpoch(store: Store, trainingId: string): number | undefined {
  const pairs = datedArtifactSteps(store, trainingId);
  let answer: number | undefined;
  for (const { epoch, step } of pairs) {
    if (step % epoch !== 0) return undefined;
    const s = step / epoch;
    if (answer !== undefined && answer !== s) return undefined;
    answer = s;
  }
  return answer;
}

/**
 * Gives every point without an epoch one. RVC logs at global step g during epoch floor(g/S)+1 (the
 * step counter starts at 0 and is bumped after each batch), which the console output of
 * rvc-real-a confirms: steps 0–4 in epoch 1, 5–9 in epoch 2. Also dates the G/D checkpoints, which
 * RVC names after the global step reached at the end of their epoch (G_10 = end of epoch 2 at S=5).
 */
export function fillEpochs(store: Store, trainingId: string): void {
  const s = stepsPerEpoch(store, trainingId);
  if (s === undefined) return;
  assignEpochs(store, trainingId, s);
}
