import type { F0Estimator } from './inferenceWorkerProtocol.ts';

// The panel's pitch-method lists, in a module of their own so the panel's contract and its string
// table (which has a label for each) can both import them without importing each other.

/**
 * The pitch methods the panel runs: harvest (WORLD) is not built in yet and runs only from a
 * recorded f0 on the CLI (`infer --f0-raw`), so the panel shows it disabled, with the reason.
 */
export const PANEL_F0_METHODS = ['yin', 'rmvpe'] as const satisfies readonly F0Estimator[];
export type PanelF0Method = (typeof PANEL_F0_METHODS)[number];
/** RVC's methods the panel shows but cannot run yet. */
export const UNAVAILABLE_F0_METHODS = ['harvest'] as const satisfies readonly F0Estimator[];

/** The methods the filter radius acts on: RVC median-filters harvest's f0 only (pipeline.py). */
export const FILTERED_F0_METHODS: readonly F0Estimator[] = ['harvest'];
