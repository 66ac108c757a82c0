// The x axis modes, in a module of their own so the metrics contract and its string table (which
// names each mode) can both import them without importing each other.

export const AXIS_MODES = ['step', 'epoch', 'relative', 'wall'] as const;
/** How points are placed on the x axis; `relative` is ms since the series' first point, as in TensorBoard. */
export type XAxisMode = (typeof AXIS_MODES)[number];
export const X_AXIS_MODES: readonly XAxisMode[] = AXIS_MODES;
