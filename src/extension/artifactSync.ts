import type * as vscode from 'vscode';
import { scanArtifacts } from '../core/models/artifactScanner.ts';
import { syncArtifacts } from '../core/models/modelRegistry.ts';
import { trainingLogsDir, type Training } from '../core/store/trainings.ts';
import type { Ctx } from './ctx.ts';
import type { FolderStore } from './folderStore.ts';
import type { TaskMonitor } from './taskMonitor.ts';

/** Re-reads which model files a training has on disk into the artifacts table (emits artifactsChanged). */
export async function syncTrainingArtifacts(folder: FolderStore, training: Training, rvcRoot?: string): Promise<number> {
  const store = folder.store;
  if (!store || folder.readonly) return 0;
  const root = rvcRoot || training.rvcRoot || folder.config.rvcRoot || null;
  const result = await syncArtifacts(store, training.id, scanArtifacts(trainingLogsDir(store, training), root, training.name));
  return result.added.length + result.missing.length + result.returned.length;
}

/**
 * A step writes checkpoints and models as it ends (and a failed training may leave some), so the
 * Models view re-reads the training's files when any of its tasks ends.
 */
export function syncArtifactsOnTaskEnd(ctx: Ctx, monitor: TaskMonitor): vscode.Disposable {
  return monitor.onDidEnd(async ({ folder, task }) => {
    try {
      const training = folder.trainings!.get(task.trainingId);
      await syncTrainingArtifacts(folder, training, task.snapshot.plan?.cwd);
    } catch (error) {
      ctx.log.warn(`could not re-read the model files after ${task.stepType}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}
