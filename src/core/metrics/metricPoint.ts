import type { MetricPointEvent } from '../events.ts';

/** One scalar at one step, as every reader produces it and `metricsAppended` carries it. */
export type MetricPoint = MetricPointEvent;

export const METRIC_SOURCE_KINDS = ['tfevents', 'jsonl', 'train_log', 'stdout'] as const;
export type MetricSourceKind = (typeof METRIC_SOURCE_KINDS)[number];

/** When two sources report the same tag and step, the higher rank wins: the events file has full precision. */
export const SOURCE_RANK: Record<MetricSourceKind, number> = { tfevents: 3, jsonl: 2, train_log: 1, stdout: 1 };
