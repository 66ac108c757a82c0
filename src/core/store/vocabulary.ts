/**
 * The words the store's columns hold: tasks.step_type and tasks.status, artifacts.kind,
 * metric_sources.kind, inference_tasks.status. They live here, on the ground floor, so the store
 * types its rows without importing the runner, the models or the metrics that act on them.
 */

/** The five RVC pipeline steps, in the order a training goes through them. */
export const STEP_TYPES = ['preprocess', 'extract_f0', 'extract_feature', 'train_model', 'train_index'] as const;
export type StepType = (typeof STEP_TYPES)[number];

export const TASK_STATUSES = ['queued', 'running', 'success', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const FINAL_STATUSES: readonly TaskStatus[] = ['success', 'failed', 'cancelled'];

export function isStepType(value: string): value is StepType {
  return (STEP_TYPES as readonly string[]).includes(value);
}

export function isFinal(status: TaskStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export const ARTIFACT_KINDS = ['checkpoint_g', 'checkpoint_d', 'weights', 'onnx', 'index'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export const METRIC_SOURCE_KINDS = ['tfevents', 'jsonl', 'train_log', 'stdout'] as const;
export type MetricSourceKind = (typeof METRIC_SOURCE_KINDS)[number];

export type InferenceStatus = 'queued' | 'running' | 'success' | 'failed' | 'cancelled';
