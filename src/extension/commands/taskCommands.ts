import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { taskFiles } from '../../core/runner/processes.ts';
import { isFinal } from '../../core/store/vocabulary.ts';
import type { Task } from '../../core/runner/taskSnapshot.ts';
import { trainingLogsDir } from '../../core/store/trainings.ts';
import { UserError } from '../../core/util/errors.ts';
import { isInside } from '../../core/util/paths.ts';
import type { Ctx } from '../ctx.ts';
import type { FolderStore } from '../folderStore.ts';
import { STEP_LABELS } from '../views/stepStates.ts';
import { asObject, pickTask, requireRunner } from './pickers.ts';

function cancelTask(ctx: Ctx) {
  return async (arg?: unknown): Promise<Task | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const picked = await pickTask(
      ctx,
      arg,
      (t) => !isFinal(t.status),
      vscode.l10n.t('Cancel which task?'),
      vscode.l10n.t('No task is running or queued.'),
    );
    if (!picked) return undefined;
    const runner = requireRunner(picked.folder);
    // Asks first (a cancelled train_model loses the epochs since its last checkpoint), naming the
    // queued steps of the same pipeline that go with it; `confirmed: true` skips it (tests, scripts).
    if (asObject(arg).confirmed !== true && !(await confirmCancel(picked.folder, picked.task))) return undefined;
    const task = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Cancelling {0}…', STEP_LABELS[picked.task.stepType]) },
      () => runner.cancel(picked.task.id),
    );
    ctx.log.info(`cancelled task ${task.id} (${task.stepType}): ${task.status}`);
    return task;
  };
}

/** The queued steps of the same pipeline after this task: cancelling it cancels them too. */
export function queuedBehind(folder: FolderStore, task: Task): Task[] {
  if (!task.chainId) return [];
  return folder
    .tasks!.list({ trainingId: task.trainingId, status: 'queued', limit: 100 })
    .filter((t) => t.chainId === task.chainId && t.id !== task.id && (t.chainSeq ?? 0) > (task.chainSeq ?? 0));
}

async function confirmCancel(folder: FolderStore, task: Task): Promise<boolean> {
  const training = folder.trainings!.get(task.trainingId).name;
  const behind = queuedBehind(folder, task);
  const what = `${training} · ${STEP_LABELS[task.stepType]}`;
  const detail =
    behind.length === 0
      ? vscode.l10n.t('No other step is queued behind it.')
      : vscode.l10n.t(
          'The {0} queued step(s) behind it in the same pipeline are cancelled too: {1}.',
          behind.length,
          behind.map((t) => STEP_LABELS[t.stepType]).join(', '),
        );
  const cancel = vscode.l10n.t('Cancel Task');
  const choice = await vscode.window.showWarningMessage(
    task.status === 'running' ? vscode.l10n.t('Stop the running step {0}?', what) : vscode.l10n.t('Cancel the queued step {0}?', what),
    { modal: true, detail },
    cancel,
  );
  return choice === cancel;
}

function retryTask(ctx: Ctx) {
  return async (arg?: unknown): Promise<Task | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const picked = await pickTask(
      ctx,
      arg,
      (t) => t.status === 'failed' || t.status === 'cancelled',
      vscode.l10n.t('Retry which task?'),
      vscode.l10n.t('No failed or cancelled task to retry.'),
    );
    if (!picked) return undefined;
    const task = requireRunner(picked.folder).retry(picked.task.id);
    ctx.log.info(`retrying task ${picked.task.id} as ${task.id}`);
    return task;
  };
}

export const TASK_LOG_SCHEME = 'rvc-studio-log';

/**
 * A task log opened as "alto-demo · train_model · log" rather than by its file's uuid name: a
 * read-only document whose path is that title and whose query is the log file.
 */
export function taskLogUri(file: string, title: string): vscode.Uri {
  return vscode.Uri.from({ scheme: TASK_LOG_SCHEME, path: `/${title.replaceAll('/', '∕')}`, query: file });
}

/** Serves those documents from the log files, re-read when VS Code asks again. */
export class TaskLogDocuments implements vscode.TextDocumentContentProvider {
  private readonly ctx: Ctx;

  constructor(ctx: Ctx) {
    this.ctx = ctx;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    // A link can name any path: serve only the log files of this workspace's tasks.
    const known = this.ctx.stores
      .open()
      .some((folder) => folder.tasks!.list({ limit: 500 }).some((task) => taskLogFile(folder, task) === uri.query));
    if (!known) return vscode.l10n.t('{0} is not the log of a task of this workspace.', uri.query);
    try {
      return fs.readFileSync(uri.query, 'utf8');
    } catch (error) {
      return vscode.l10n.t('The log {0} cannot be read: {1}', uri.query, error instanceof Error ? error.message : String(error));
    }
  }
}

export function taskLogFile(folder: FolderStore, task: Task): string {
  return task.logPath ?? taskFiles(folder.store!, task.id).log;
}

function openTaskLog(ctx: Ctx) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const picked = await pickTask(
      ctx,
      arg,
      () => true,
      vscode.l10n.t('Open the log of which task?'),
      vscode.l10n.t('There are no tasks yet.'),
    );
    if (!picked) return undefined;
    const file = taskLogFile(picked.folder, picked.task);
    if (!fs.existsSync(file)) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('{0} has not started yet, so it has no log (it is {1}).', picked.task.stepType, picked.task.status),
      );
      return undefined;
    }
    const training = picked.folder.trainings!.get(picked.task.trainingId).name;
    await vscode.window.showTextDocument(taskLogUri(file, `${training} · ${picked.task.stepType} · log`), { preview: true });
    return file;
  };
}

/** Shows a file or folder: in the Explorer when it is inside the workspace, else in the OS. */
export async function revealPath(folder: FolderStore, target: string): Promise<void> {
  if (!fs.existsSync(target)) throw new UserError(vscode.l10n.t('{0} does not exist (any more).', target));
  const uri = vscode.Uri.file(target);
  if (isInside(folder.dir, target)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('revealFileInOS', uri);
}

function revealTaskOutputs(ctx: Ctx) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const picked = await pickTask(
      ctx,
      arg,
      () => true,
      vscode.l10n.t('Reveal the outputs of which task?'),
      vscode.l10n.t('There are no tasks yet.'),
    );
    if (!picked) return undefined;
    const training = picked.folder.trainings!.get(picked.task.trainingId);
    const dir = picked.task.snapshot.training.logsDir || trainingLogsDir(picked.folder.store!, training);
    await revealPath(picked.folder, dir);
    return dir;
  };
}

export const taskCommands = { cancelTask, retryTask, openTaskLog, revealTaskOutputs };
