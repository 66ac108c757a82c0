import { bestEpochOf } from '../../core/metrics/bestEpoch.ts';
import { metricTags, querySeries } from '../../core/metrics/metricsQuery.ts';
import type { Store } from '../../core/store/store.ts';
import { TrainingRepository } from '../../core/store/trainings.ts';
import { datedArtifacts } from '../../core/store/artifactRepository.ts';
// Where an epoch ends on the step axis, for a best epoch with no saved model to take the step from.
import { lastStepOfEpoch } from '../../core/store/metricsRepository.ts';
import { toWire, type CheckpointMarker, type MarkersMessage, type RunInfo, type SeriesPayload } from '../../protocol/metricsPanel.ts';

/**
 * What the metrics panel needs from the metrics module: a small port, so the panel controller is
 * tested against a real store without VS Code, and the query code can change behind it.
 */
export interface MetricsSource {
  /** Names of the trainings; throws UserError for an unknown id. */
  runs(trainingIds: string[]): RunInfo[];
  tags(trainingId: string): string[];
  /** One payload per training, downsampled to about maxPoints, optionally within a step range. */
  series(trainingIds: string[], tag: string, maxPoints: number, stepRange: [number, number] | null): SeriesPayload[];
  markers(trainingId: string): Omit<MarkersMessage, 'type'>;
}

const MARKER_KINDS: readonly CheckpointMarker['kind'][] = ['checkpoint_g', 'checkpoint_d', 'weights', 'onnx', 'index'];

/** The port over the workspace store and src/core/metrics (queries, best epoch, artifacts). */
export function storeMetricsSource(store: Store): MetricsSource {
  const trainings = new TrainingRepository(store);
  return {
    runs: (ids) =>
      ids.map((id) => {
        const training = trainings.get(id);
        return { trainingId: training.id, name: training.name };
      }),
    tags: (trainingId) => metricTags(store, trainingId),
    series: (trainingIds, tag, maxPoints, stepRange) =>
      querySeries(store, { trainingIds, tag, x: 'step', maxPoints, ...(stepRange ? { range: stepRange } : {}) }).map((result) => ({
        trainingId: result.trainingId,
        tag: result.tag,
        steps: result.points.map((p) => p.step),
        values: result.points.map((p) => toWire(p.value)),
        epochs: result.points.map((p) => p.epoch),
        wallTimesMs: result.points.map((p) => p.wallTimeMs),
        totalPoints: result.totalPoints,
      })),
    markers: (trainingId) => {
      const rows = datedArtifacts(store, trainingId);
      const checkpoints = rows
        .filter((row) => MARKER_KINDS.includes(row.kind as CheckpointMarker['kind']))
        .map((row) => ({ trainingId, kind: row.kind as CheckpointMarker['kind'], path: row.path, epoch: row.epoch, step: row.step }));
      const analysis = bestEpochOf(store, trainingId);
      const best = analysis?.best ?? null;
      const bestStep = best
        ? (checkpoints.find((c) => c.kind === 'weights' && c.epoch === best.epoch)?.step ?? lastStepOfEpoch(store, trainingId, best.epoch))
        : null;
      return {
        trainingId,
        checkpoints,
        bestEpoch:
          best && analysis
            ? {
                trainingId,
                epoch: best.epoch,
                step: bestStep,
                tag: analysis.tag,
                value: best.smoothed,
                rawMean: analysis.perEpoch.find((p) => p.epoch === best.epoch)?.mean ?? null,
                smoothing: analysis.smoothing,
              }
            : null,
        overtraining: analysis?.overtraining?.message ?? null,
      };
    },
  };
}
