import { randomInt } from 'node:crypto';
import type { ConvertParams, ConvertProgress, ConvertResult } from '../../protocol/inferenceWorkerProtocol.ts';
import { errorMessage } from '../util/errors.ts';
import { ConvertCancelledError, type InferenceEngine } from './inferenceEngine.ts';
import type { InferenceHistory, InferenceTask } from './inferenceHistory.ts';

/**
 * One conversion with its history row: the row is written `running` before the work starts (so a
 * crash leaves a trace), then `success` with cost_ms, or `failed`/`cancelled` with the reason.
 * A conversion without a seed gets a random one here, recorded with it, so a re-run reproduces it.
 */
export async function convertWithHistory(
  engine: InferenceEngine,
  history: InferenceHistory | null,
  requested: ConvertParams,
  options: { onProgress?: (progress: ConvertProgress) => void; signal?: AbortSignal; trainingId?: string | null } = {},
): Promise<{ result: ConvertResult; task: InferenceTask | null; params: ConvertParams }> {
  const params = { ...requested, seed: requested.seed ?? randomInt(0, 2 ** 31) };
  const task = history?.start(params, { trainingId: options.trainingId ?? null }) ?? null;
  try {
    const result = await engine.convert(params, options.onProgress, options.signal);
    if (task) history!.finish(task.id, result);
    return { result, task: task ? history!.require(task.id) : null, params };
  } catch (error) {
    if (task) history!.fail(task.id, error instanceof ConvertCancelledError ? 'cancelled' : 'failed', errorMessage(error));
    throw error;
  }
}

/** The parameters of an earlier run, for a re-run, optionally writing somewhere else. */
export function rerunParams(task: InferenceTask, overrides: Partial<ConvertParams> = {}): ConvertParams {
  return { ...task.params, ...overrides };
}
