import type { MetricPointEvent } from '../events.ts';
import type { MetricSourceKind } from '../store/vocabulary.ts';

/** One scalar at one step, as every reader produces it and `metricsAppended` carries it. */
export type MetricPoint = MetricPointEvent;

/** When two sources report the same tag and step, the higher rank wins: the events file has full precision. */
export const SOURCE_RANK: Record<MetricSourceKind, number> = { tfevents: 3, jsonl: 2, train_log: 1, stdout: 1 };
