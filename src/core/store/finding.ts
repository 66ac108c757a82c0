/**
 * One problem `db check` found. Every part of the check reports in this shape: the store's own
 * (integrity, rows, recorded files), the runner's (tasks marked running) and the models' (cached
 * exports); it sits on the ground floor so each of them can name it.
 */
export type FindingKind =
  | 'integrity'
  | 'foreign-key'
  | 'task-process-gone'
  | 'task-ended-unrecorded'
  | 'logs-folder-missing'
  | 'artifact-missing'
  | 'artifact-changed'
  | 'export-orphaned'
  | 'export-stale';

export interface Finding {
  kind: FindingKind;
  message: string;
  /** What --repair did about it; absent when it was only reported. */
  repaired?: string;
}
