import type { ArtifactKind } from './vocabulary.ts';
import { prepared, type Store } from './store.ts';

/**
 * The SQL over `artifacts`: one row per checkpoint, small model, ONNX file and index of a
 * training. The models registry (src/core/models/modelRegistry.ts) decides what to write; this is
 * how it is read and written.
 */

export interface Artifact {
  id: number;
  trainingId: string;
  kind: ArtifactKind;
  path: string;
  size: number | null;
  sha256: string | null;
  mtimeMs: number | null;
  epoch: number | null;
  step: number | null;
  pinned: boolean;
  createdAt: number;
  deletedAt: number | null;
}

export interface ArtifactRow {
  id: number;
  training_id: string;
  kind: ArtifactKind;
  path: string;
  size: number | null;
  sha256: string | null;
  mtime_ms: number | null;
  epoch: number | null;
  step: number | null;
  pinned: number;
  created_at: number;
  deleted_at: number | null;
}

export function artifactFromRow(row: ArtifactRow): Artifact {
  return {
    id: row.id,
    trainingId: row.training_id,
    kind: row.kind,
    path: row.path,
    size: row.size,
    sha256: row.sha256,
    mtimeMs: row.mtime_ms,
    epoch: row.epoch,
    step: row.step,
    pinned: row.pinned === 1,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
  };
}

/** Every row of a training, deleted ones included. */
export function artifactRowsOf(store: Store, trainingId: string): ArtifactRow[] {
  return prepared(store, 'SELECT * FROM artifacts WHERE training_id = ?').all(trainingId) as ArtifactRow[];
}

export function listArtifactRows(store: Store, trainingId: string, includeDeleted: boolean): ArtifactRow[] {
  return prepared(
    store,
    `SELECT * FROM artifacts WHERE training_id = ? ${includeDeleted ? '' : 'AND deleted_at IS NULL'}
        ORDER BY kind, coalesce(step, 9e18), coalesce(epoch, 9e18), path`,
  ).all(trainingId) as ArtifactRow[];
}

export function artifactByPath(store: Store, file: string): ArtifactRow | undefined {
  return prepared(store, 'SELECT * FROM artifacts WHERE path = ?').get(file) as ArtifactRow | undefined;
}

/** Adds a found file; false when its path is registered already (to this or another training). */
export function insertArtifact(
  store: Store,
  row: {
    trainingId: string;
    kind: ArtifactKind;
    path: string;
    size: number | null;
    mtimeMs: number | null;
    epoch: number | null;
    step: number | null;
  },
): boolean {
  return (
    prepared(
      store,
      'INSERT INTO artifacts (training_id, kind, path, size, mtime_ms, epoch, step) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO NOTHING',
    ).run(row.trainingId, row.kind, row.path, row.size, row.mtimeMs, row.epoch, row.step).changes > 0
  );
}

/** A file seen again (maybe changed): new size/mtime, present again, its hash kept only if unchanged. */
export function updateFoundArtifact(
  store: Store,
  id: number,
  found: { size: number | null; mtimeMs: number | null; epoch: number | null; step: number | null },
): void {
  prepared(
    store,
    `UPDATE artifacts SET size = ?, mtime_ms = ?, deleted_at = NULL, epoch = coalesce(?, epoch), step = coalesce(?, step),
              sha256 = CASE WHEN size IS ? AND mtime_ms IS ? THEN sha256 ELSE NULL END WHERE id = ?`,
  ).run(found.size, found.mtimeMs, found.epoch, found.step, found.size, found.mtimeMs, id);
}

/** Flags a row as gone from disk (kept as history). */
export function flagArtifactDeleted(store: Store, id: number, at: number): void {
  prepared(store, 'UPDATE artifacts SET deleted_at = ? WHERE id = ?').run(at, id);
}

export function flagArtifactPathDeleted(store: Store, trainingId: string, file: string, at: number): void {
  prepared(store, 'UPDATE artifacts SET deleted_at = ? WHERE training_id = ? AND path = ?').run(at, trainingId, file);
}

export function saveArtifactHash(store: Store, id: number, sha256: string, size: number, mtimeMs: number | null): void {
  prepared(store, 'UPDATE artifacts SET sha256 = ?, size = ?, mtime_ms = ? WHERE id = ?').run(sha256, size, mtimeMs, id);
}

/** Sets the pinned flag; false when the training has no such file. */
export function setArtifactPinned(store: Store, trainingId: string, file: string, pinned: boolean): boolean {
  return (
    prepared(store, 'UPDATE artifacts SET pinned = ? WHERE training_id = ? AND path = ?').run(pinned ? 1 : 0, trainingId, file).changes > 0
  );
}

export function usageByKind(store: Store, trainingId: string): { kind: ArtifactKind; count: number; bytes: number }[] {
  return prepared(
    store,
    'SELECT kind, count(*) AS count, coalesce(sum(size), 0) AS bytes FROM artifacts WHERE training_id = ? AND deleted_at IS NULL GROUP BY kind',
  ).all(trainingId) as { kind: ArtifactKind; count: number; bytes: number }[];
}

export function usageByTraining(store: Store): { trainingId: string; name: string; bytes: number }[] {
  return prepared(
    store,
    `SELECT a.training_id AS trainingId, t.name AS name, coalesce(sum(a.size), 0) AS bytes FROM artifacts a JOIN trainings t ON t.id = a.training_id
        WHERE a.deleted_at IS NULL GROUP BY a.training_id ORDER BY bytes DESC`,
  ).all() as { trainingId: string; name: string; bytes: number }[];
}

/** Present rows whose sha256 another present row shares, ordered by hash then path. */
export function sharedHashRows(store: Store): { sha256: string; path: string }[] {
  return prepared(
    store,
    `SELECT sha256, path FROM artifacts WHERE deleted_at IS NULL AND sha256 IN
         (SELECT sha256 FROM artifacts WHERE deleted_at IS NULL AND sha256 IS NOT NULL GROUP BY sha256 HAVING count(*) > 1)
        ORDER BY sha256, path`,
  ).all() as { sha256: string; path: string }[];
}

export function presentArtifactCount(store: Store, trainingId: string): number {
  return prepared(store, 'SELECT count(*) FROM artifacts WHERE training_id = ? AND deleted_at IS NULL', { pluck: true }).get(
    trainingId,
  ) as number;
}

/** (epoch, step) of the present weights and checkpoints that know both: what steps per epoch is read from. */
export function datedArtifactSteps(store: Store, trainingId: string): { epoch: number; step: number }[] {
  return prepared(
    store,
    `SELECT epoch, step FROM artifacts WHERE training_id = ? AND deleted_at IS NULL AND epoch > 0 AND step > 0
         AND kind IN ('weights', 'checkpoint_g', 'checkpoint_d')`,
  ).all(trainingId) as { epoch: number; step: number }[];
}

/** Present small models with a known epoch. */
export function weightsWithEpoch(store: Store, trainingId: string): { epoch: number; path: string }[] {
  // The {name}_e{E}_s{S}.pth of an epoch before the final {name}.pth of the same epoch: its name says which it is.
  return prepared(
    store,
    "SELECT epoch, path FROM artifacts WHERE training_id = ? AND kind = 'weights' AND epoch IS NOT NULL AND deleted_at IS NULL ORDER BY step IS NULL, path",
  ).all(trainingId) as { epoch: number; path: string }[];
}

/** Present rows placed on the step or epoch axis, in that order (checkpoint markers on a chart). */
export function datedArtifacts(
  store: Store,
  trainingId: string,
): { kind: string; path: string; epoch: number | null; step: number | null }[] {
  return prepared(
    store,
    `SELECT kind, path, epoch, step FROM artifacts
      WHERE training_id = ? AND deleted_at IS NULL AND (epoch IS NOT NULL OR step IS NOT NULL)
      ORDER BY coalesce(step, epoch)`,
  ).all(trainingId) as { kind: string; path: string; epoch: number | null; step: number | null }[];
}
