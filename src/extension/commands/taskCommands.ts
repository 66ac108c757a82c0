import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { taskFiles } from '../../core/runner/processes.ts';
import { isFinal } from '../../core/runner/steps.ts';
import type { Task } from '../../core/runner/taskRepository.ts';
import { trainingLogsDir } from '../../core/store/trainings.ts';
import { UserError } from '../../core/util/errors.ts';
import { isInside } from '../../core/util/paths.ts';
import type { Ctx } from '../ctx.ts';
import type { FolderStore } from '../folderStore.ts';
import { pickTask, requireRunner } from './pickers.ts';

function cancelTask(ctx: Ctx) {
  return async (arg?: unknown): Promise<Task | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const picked = await pickTask(ctx, arg, (t) => !isFinal(t.status), 'Cancel which task?', 'No task is running or queued.');
    if (!picked) return undefined;
    const runner = requireRunner(picked.folder);
    const task = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `Cancelling ${picked.task.stepType}…` },
      () => runner.cancel(picked.task.id),
    );
    ctx.log.info(`cancelled task ${task.id} (${task.stepType}): ${task.status}`);
    return task;
  };
}

function retryTask(ctx: Ctx) {
  return async (arg?: unknown): Promise<Task | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const picked = await pickTask(ctx, arg, (t) => t.status === 'failed' || t.status === 'cancelled', 'Retry which task?', 'No failed or cancelled task to retry.');
    if (!picked) return undefined;
    const task = requireRunner(picked.folder).retry(picked.task.id);
    ctx.log.info(`retrying task ${picked.task.id} as ${task.id}`);
    return task;
  };
}

export function taskLogFile(folder: FolderStore, task: Task): string {
  return task.logPath ?? taskFiles(folder.store!, task.id).log;
}

function openTaskLog(ctx: Ctx) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const picked = await pickTask(ctx, arg, () => true, 'Open the log of which task?', 'There are no tasks yet.');
    if (!picked) return undefined;
    const file = taskLogFile(picked.folder, picked.task);
    if (!fs.existsSync(file)) {
      void vscode.window.showInformationMessage(`${picked.task.stepType} has not started yet, so it has no log (it is ${picked.task.status}).`);
      return undefined;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
    return file;
  };
}

/** Shows a file or folder: in the Explorer when it is inside the workspace, else in the OS. */
export async function revealPath(folder: FolderStore, target: string): Promise<void> {
  if (!fs.existsSync(target)) throw new UserError(`${target} does not exist (any more).`);
  const uri = vscode.Uri.file(target);
  if (isInside(folder.dir, target)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('revealFileInOS', uri);
}

function revealTaskOutputs(ctx: Ctx) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const picked = await pickTask(ctx, arg, () => true, 'Reveal the outputs of which task?', 'There are no tasks yet.');
    if (!picked) return undefined;
    const training = picked.folder.trainings!.get(picked.task.trainingId);
    const dir = picked.task.snapshot.training.logsDir || trainingLogsDir(picked.folder.store!, training);
    await revealPath(picked.folder, dir);
    return dir;
  };
}

export const taskCommands = { cancelTask, retryTask, openTaskLog, revealTaskOutputs };
