import * as fs from 'node:fs';
import * as path from 'node:path';
import { msg, UserError } from '../util/errors.ts';
import { isInside } from '../util/paths.ts';
import { nowMs } from '../util/time.ts';
import { databaseOf, type Store } from './store.ts';
import { TrainingRepository, trainingLogsDir } from './trainings.ts';

/**
 * Folders a training's model files may live in: its logs folder, and RVC's assets/weights (small
 * models) under the training's RVC root or the workspace. A path from the database outside these
 * is never deleted: the row may have been written by another process.
 */
export function artifactRoots(store: Store, trainingId: string): string[] {
  const training = new TrainingRepository(store).get(trainingId);
  const roots = [trainingLogsDir(store, training), path.join(store.workspaceDir, 'assets', 'weights')];
  if (training.rvcRoot) roots.push(path.join(training.rvcRoot, 'assets', 'weights'));
  return roots;
}

/** Deletes one artifact's file and marks its row deleted (the row stays as history). */
export function deleteArtifactFile(store: Store, artifactId: number): { path: string; bytes: number } {
  const row = databaseOf(store)
    .prepare('SELECT training_id AS trainingId, path, size, pinned, deleted_at AS deletedAt FROM artifacts WHERE id = ?')
    .get(artifactId) as { trainingId: string; path: string; size: number | null; pinned: number; deletedAt: number | null } | undefined;
  if (!row || row.deletedAt !== null)
    throw new UserError(msg`That model file is no longer listed; refresh the Models view.`, 'no-artifact');
  if (row.pinned === 1) throw new UserError(msg`${path.basename(row.path)} is pinned; unpin it before deleting it.`, 'pinned');
  const roots = artifactRoots(store, row.trainingId);
  if (!roots.some((root) => isInside(root, row.path))) {
    throw new UserError(msg`Refusing to delete ${row.path}: it is outside the training's folders (${roots.join(', ')}).`, 'path-escape');
  }
  fs.rmSync(row.path, { force: true });
  databaseOf(store).prepare('UPDATE artifacts SET deleted_at = ? WHERE id = ?').run(nowMs(), artifactId);
  store.events.emit('artifactsChanged', { trainingId: row.trainingId });
  return { path: row.path, bytes: row.size ?? 0 };
}
