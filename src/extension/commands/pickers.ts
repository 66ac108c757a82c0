import * as vscode from 'vscode';
import { STEP_TYPES, type StepType } from '../../core/store/vocabulary.ts';
import type { Task } from '../../core/runner/taskSnapshot.ts';
import type { Training } from '../../core/store/trainings.ts';
import { UserError } from '../../core/util/errors.ts';
import type { Ctx } from '../ctx.ts';
import type { FolderStore } from '../folderStore.ts';
import type { ViewNode } from '../views/nodes.ts';
import { STEP_LABELS, STEP_STATE_LABELS } from '../views/stepStates.ts';
import { trainingStateText } from '../views/trainingsView.ts';

/** A task's status in the step-state words the views use. */
const TASK_STATE = {
  running: 'running',
  queued: 'queued',
  success: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
} as const satisfies Record<Task['status'], keyof typeof STEP_STATE_LABELS>;

/** Commands take a tree node (menus), a plain object (tests, other extensions) or nothing (palette). */
export function asNode(arg: unknown): ViewNode | undefined {
  return arg !== null && typeof arg === 'object' && 'kind' in arg && typeof (arg as { kind: unknown }).kind === 'string'
    ? (arg as ViewNode)
    : undefined;
}

export function asObject(arg: unknown): Record<string, unknown> {
  return arg !== null && typeof arg === 'object' && !('kind' in arg) ? (arg as Record<string, unknown>) : {};
}

/** The folder named by `folder` (a path) in a plain-object argument, else the only or picked one. */
export async function folderFor(
  ctx: Ctx,
  args: Record<string, unknown>,
  options: { needStore?: boolean } = {},
): Promise<FolderStore | undefined> {
  if (typeof args.folder === 'string') {
    const found = ctx.stores.forUri(vscode.Uri.file(args.folder));
    if (!found) throw new UserError(vscode.l10n.t('{0} is not a folder of this workspace.', args.folder));
    return found;
  }
  return ctx.stores.pick(vscode.l10n.t('Which workspace folder?'), options);
}

export async function pickTraining(
  ctx: Ctx,
  arg: unknown,
  placeHolder: string,
): Promise<{ folder: FolderStore; training: Training } | undefined> {
  const node = asNode(arg);
  if (node && (node.kind === 'training' || node.kind === 'step' || node.kind === 'modelTraining' || node.kind === 'artifact')) {
    return { folder: node.folder, training: node.folder.trainings!.get(node.training.id) };
  }
  const args = asObject(arg);
  const folder = await folderFor(ctx, args, { needStore: true });
  if (!folder) return undefined;
  const repo = folder.trainings!;
  if (typeof args.training === 'string') return { folder, training: repo.require(args.training) };
  const trainings = repo.list();
  if (trainings.length === 0)
    throw new UserError(vscode.l10n.t('There are no trainings yet; run "RVC Studio: Create Training" or "Import RVC Install…" first.'));
  const picked = await vscode.window.showQuickPick(
    trainings.map((t) => ({
      label: t.name,
      description: `${trainingStateText(folder, t)} · ${t.targetSr / 1000}k · ${t.modelVersion}`,
      training: t,
    })),
    { placeHolder },
  );
  return picked ? { folder, training: picked.training } : undefined;
}

export async function pickStep(arg: unknown): Promise<StepType | undefined> {
  const node = asNode(arg);
  if (node?.kind === 'step') return node.row.step;
  const args = asObject(arg);
  if (typeof args.step === 'string') {
    if (!(STEP_TYPES as readonly string[]).includes(args.step))
      throw new UserError(vscode.l10n.t('"{0}" is not a step; use one of {1}.', args.step, STEP_TYPES.join(', ')));
    return args.step as StepType;
  }
  const picked = await vscode.window.showQuickPick(
    STEP_TYPES.map((step) => ({ label: STEP_LABELS[step], description: step, step })),
    { placeHolder: vscode.l10n.t('Which step?') },
  );
  return picked?.step;
}

export async function pickTask(
  ctx: Ctx,
  arg: unknown,
  accept: (task: Task) => boolean,
  placeHolder: string,
  none: string,
): Promise<{ folder: FolderStore; task: Task } | undefined> {
  const node = asNode(arg);
  if (node?.kind === 'task') return { folder: node.folder, task: node.folder.tasks!.get(node.task.id) };
  const args = asObject(arg);
  if (typeof args.taskId === 'string') {
    for (const folder of ctx.stores.open()) {
      try {
        return { folder, task: folder.tasks!.resolve(args.taskId) };
      } catch (error) {
        // Only "no such task" means try the next folder; an ambiguous prefix or a failing store is the answer.
        if (!(error instanceof UserError && error.code === 'no-task')) throw error;
      }
    }
    throw new UserError(vscode.l10n.t('No task {0} in this workspace.', args.taskId), 'no-task');
  }
  const items = ctx.stores.open().flatMap((folder) =>
    folder
      .tasks!.list({ limit: 100 })
      .filter(accept)
      .map((task) => ({
        label: `${folder.trainings!.get(task.trainingId).name} · ${STEP_LABELS[task.stepType]}`,
        description: STEP_STATE_LABELS[TASK_STATE[task.status]] + (ctx.stores.isMultiRoot ? ` · ${folder.name}` : ''),
        folder,
        task,
      })),
  );
  if (items.length === 0) throw new UserError(none);
  const picked = await vscode.window.showQuickPick(items, { placeHolder });
  return picked ? { folder: picked.folder, task: picked.task } : undefined;
}

export function requireRunner(folder: FolderStore) {
  if (!folder.runner) {
    throw new UserError(
      folder.readonly
        ? vscode.l10n.t('RVC Studio cannot run steps in {0}: the workspace is not trusted.', folder.name)
        : vscode.l10n.t('RVC Studio cannot run steps in {0}: its store is not open.', folder.name),
    );
  }
  return folder.runner;
}
