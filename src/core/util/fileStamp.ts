import type * as fs from 'node:fs';

/**
 * The modification time we record for a file, in whole ms. Every module that stores or compares a
 * file's mtime goes through this one rounding, so "changed since recorded" never fires on a file
 * that did not change.
 */
export function recordedMtimeMs(stat: fs.Stats): number {
  return Math.round(stat.mtimeMs);
}
