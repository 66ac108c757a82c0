import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { isFinal } from '../../core/store/vocabulary.ts';
import { trainingLogsDir, type Training } from '../../core/store/trainings.ts';
import { UserError } from '../../core/util/errors.ts';
import type { Ctx } from '../ctx.ts';
import type { FolderStore } from '../folderStore.ts';
import { checkNameField } from '../trainingForm.ts';
import { asNode, asObject, pickTraining } from './pickers.ts';
import { revealPath } from './taskCommands.ts';
import { checkedDataset, validation } from './trainingCommands.ts';

/** The training of a menu row (its own row, a step or its Dataset row), an argument, or picked. */
async function target(ctx: Ctx, arg: unknown, placeHolder: string): Promise<{ folder: FolderStore; training: Training } | undefined> {
  const node = asNode(arg);
  if (node?.kind === 'info' && node.trainingId) {
    for (const folder of ctx.stores.open()) {
      const training = folder.trainings!.list().find((t) => t.id === node.trainingId);
      if (training) return { folder, training };
    }
  }
  return pickTraining(ctx, arg, placeHolder);
}

function hasLiveTask(folder: FolderStore, training: Training): boolean {
  return (folder.tasks?.list({ trainingId: training.id, limit: 50 }) ?? []).some((t) => !isFinal(t.status));
}

/** Names (or changes) the dataset folder preprocess reads; an imported training has none recorded. */
function setDataset(ctx: Ctx) {
  return async (arg?: unknown): Promise<Training | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const picked = await target(ctx, arg, vscode.l10n.t('Set the dataset of which training?'));
    if (!picked) return undefined;
    let dir = asObject(arg).datasetPath as string | undefined;
    if (typeof dir !== 'string') {
      const chosen = await vscode.window.showOpenDialog({
        title: vscode.l10n.t('Dataset of {0} (a folder of audio files of one voice)', picked.training.name),
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        defaultUri: picked.training.datasetPath ? vscode.Uri.file(picked.training.datasetPath) : picked.folder.folder.uri,
        openLabel: vscode.l10n.t('Use as Dataset'),
      });
      if (!chosen?.[0]) return undefined;
      dir = chosen[0].fsPath;
    }
    const resolved = checkedDataset(dir).datasetPath;
    const training = picked.folder.trainings!.update(picked.training.id, { datasetPath: resolved });
    ctx.log.info(`dataset of ${training.name}: ${resolved}`);
    return training;
  };
}

/**
 * Rename. RVC names a training's files after it (logs/NAME, assets/weights/NAME.pth, the index),
 * and its scripts find them by that name, so a display name apart from the folder would leave the
 * two disagreeing. Renaming is therefore offered only while nothing carries the name yet: before the
 * first step has run, with no logs folder on disk and no task queued. After that, notes and tags
 * describe a training instead.
 */
function renameTraining(ctx: Ctx) {
  return async (arg?: unknown): Promise<Training | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const picked = await target(ctx, arg, vscode.l10n.t('Rename which training?'));
    if (!picked) return undefined;
    const { folder, training } = picked;
    const repo = folder.trainings!;
    const ran = (folder.tasks?.list({ trainingId: training.id, limit: 1 }) ?? []).length > 0;
    if (ran || training.hasPreprocessed || training.logsDir || fs.existsSync(trainingLogsDir(folder.store!, training))) {
      throw new UserError(
        vscode.l10n.t(
          '"{0}" cannot be renamed: RVC has written files under that name (logs/{0}, assets/weights/{0}.pth) and finds them by it. Use Notes and Tags… to describe it, or create a new training.',
          training.name,
        ),
      );
    }
    const exists = (name: string): boolean => name !== training.name && repo.findByName(name, { includeDeleted: true }) !== undefined;
    let name = asObject(arg).name as string | undefined;
    if (typeof name !== 'string') {
      name = await vscode.window.showInputBox({
        title: vscode.l10n.t('Rename {0}', training.name),
        prompt: vscode.l10n.t('Possible until its first step runs: the name becomes logs/<name> and <name>.pth.'),
        value: training.name,
        validateInput: (value) => validation(checkNameField(value, exists)),
      });
      if (name === undefined || name === training.name) return undefined;
    }
    const check = checkNameField(name, exists);
    if (check?.severity === 'error') throw new UserError(check.message);
    // A new row under the new name, then the old one removed: the store has no rename of its own.
    const renamed = repo.create({
      name,
      datasetPath: training.datasetPath,
      targetSr: training.targetSr,
      modelVersion: training.modelVersion,
      f0Method: training.f0Method,
      gpuId: training.gpuId,
      ifF0: training.ifF0,
      rvcRoot: training.rvcRoot,
      params: training.params as Record<string, unknown>,
      notes: training.notes,
      status: training.status,
    });
    if (training.tags.length > 0) repo.setTags(renamed.id, training.tags);
    repo.softDelete(training.name);
    repo.purge(training.name);
    ctx.log.info(`renamed training ${training.name} to ${renamed.name}`);
    await ctx.revealTraining(folder, renamed.id);
    return renamed;
  };
}

/** Deletes the training from RVC Studio (restorable with the CLI); its files on disk stay. */
function deleteTraining(ctx: Ctx) {
  return async (arg?: unknown): Promise<Training | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const picked = await target(ctx, arg, vscode.l10n.t('Delete which training?'));
    if (!picked) return undefined;
    const { folder, training } = picked;
    if (hasLiveTask(folder, training))
      throw new UserError(vscode.l10n.t('"{0}" has a step running or queued; cancel it first.', training.name));
    if (asObject(arg).confirmed !== true) {
      const remove = vscode.l10n.t('Delete');
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t('Delete the training "{0}"?', training.name),
        {
          modal: true,
          detail: vscode.l10n.t(
            'It leaves the Trainings, Tasks and Models views. Its files on disk ({0}, its models) are not touched, and "rvc-studio training restore {1}" brings it back.',
            folder.store ? trainingLogsDir(folder.store, training) : `logs/${training.name}`,
            training.name,
          ),
        },
        remove,
      );
      if (choice !== remove) return undefined;
    }
    const deleted = folder.trainings!.softDelete(training.name);
    ctx.log.info(`deleted training ${training.name}`);
    return deleted;
  };
}

function revealLogsFolder(ctx: Ctx) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const picked = await target(ctx, arg, vscode.l10n.t('Reveal the logs folder of which training?'));
    if (!picked?.folder.store) return undefined;
    const dir = trainingLogsDir(picked.folder.store, picked.training);
    if (!fs.existsSync(dir)) throw new UserError(vscode.l10n.t('{0} does not exist yet: preprocess creates it.', dir));
    await revealPath(picked.folder, dir);
    return dir;
  };
}

/** Notes (free text) and tags (comma-separated), both found by `rvc-studio training search`. */
function editNotesAndTags(ctx: Ctx) {
  return async (arg?: unknown): Promise<Training | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const picked = await target(ctx, arg, vscode.l10n.t('Notes and tags of which training?'));
    if (!picked) return undefined;
    const { folder, training } = picked;
    const args = asObject(arg);
    let notes = typeof args.notes === 'string' ? args.notes : undefined;
    if (notes === undefined) {
      notes = await vscode.window.showInputBox({
        title: vscode.l10n.t('Notes of {0}', training.name),
        prompt: vscode.l10n.t('Shown in its tooltip; searchable.'),
        value: training.notes,
      });
      if (notes === undefined) return undefined;
    }
    let tags = Array.isArray(args.tags) ? (args.tags as unknown[]).map(String) : undefined;
    if (tags === undefined) {
      const typed = await vscode.window.showInputBox({
        title: vscode.l10n.t('Tags of {0}', training.name),
        prompt: vscode.l10n.t('Comma-separated, e.g. alto, clean, 40k'),
        value: training.tags.join(', '),
      });
      if (typed === undefined) return undefined;
      tags = typed.split(',');
    }
    folder.trainings!.update(training.id, { notes });
    return folder.trainings!.setTags(training.id, tags);
  };
}

export const trainingManageCommands = { setDataset, renameTraining, deleteTraining, revealLogsFolder, editNotesAndTags };
