export const nowMs = (): number => Date.now();

/** 2026-11-23T08-30-12-345Z: sortable and safe in a file name on every OS. */
export function fileTimestamp(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}
