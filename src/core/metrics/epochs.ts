import type { Store } from '../store/store.ts';

/**
 * Steps per epoch of a training, from the saved small models (`{name}_e{E}_s{S}.pth`: S global
 * steps after E epochs) or, failing that, from the checkpoints whose epoch is known. RVC's loader
 * yields the same number of batches every epoch, so one exact pair is enough; pairs that disagree
 * (a resumed run with a different batch size) give no answer rather than a wrong one.
 */
export function stepsPerEpoch(store: Store, trainingId: string): number | undefined {
  const pairs = store.db
    .prepare(
      `SELECT epoch, step FROM artifacts WHERE training_id = ? AND deleted_at IS NULL AND epoch > 0 AND step > 0
         AND kind IN ('weights', 'checkpoint_g', 'checkpoint_d')`,
    )
    .all(trainingId) as { epoch: number; step: number }[];
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
  store.transaction(() => {
    store.db
      .prepare(
        `UPDATE metrics SET epoch = step / CAST(? AS INTEGER) + 1
          WHERE epoch IS NULL AND series_id IN (SELECT id FROM metric_series WHERE training_id = ?)`,
      )
      .run(s, trainingId);
    store.db
      .prepare(
        `UPDATE artifacts SET epoch = step / CAST(? AS INTEGER)
          WHERE training_id = ? AND epoch IS NULL AND step > 0 AND step % CAST(? AS INTEGER) = 0 AND kind IN ('checkpoint_g', 'checkpoint_d')`,
      )
      .run(s, trainingId, s);
  });
}
