import type { ConvertParams } from '../../protocol/inferenceWorkerProtocol.ts';
import { InferenceRecords, type InferenceRecord } from '../store/inferenceRecords.ts';

/** One inference_tasks row with its parameters typed as the conversion's. */
export type InferenceTask = InferenceRecord<ConvertParams>;

/**
 * The inference history (inference_tasks): a row per run, for listing and re-running. The store
 * keeps the parameters whole without knowing their shape; this is where they are ConvertParams.
 */
export class InferenceHistory extends InferenceRecords<ConvertParams> {}
