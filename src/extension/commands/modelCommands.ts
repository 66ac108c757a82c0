import * as path from 'node:path';
import * as vscode from 'vscode';
import { executePrune, planPrune, type PrunePlan } from '../../core/models/modelRegistry.ts';
import { deleteArtifactFile } from '../../core/store/artifactFiles.ts';
import { trainingLogsDir } from '../../core/store/trainings.ts';
import { UserError } from '../../core/util/errors.ts';
import type { Ctx } from '../ctx.ts';
import { VIEW_IDS } from '../ctx.ts';
import type { NodeOf } from '../views/nodes.ts';
import { formatBytes } from '../views/stepStates.ts';
import { asNode, asObject, pickTraining } from './pickers.ts';
import { revealPath } from './taskCommands.ts';

function artifactNode(arg: unknown): NodeOf<'artifact'> {
  const node = asNode(arg);
  if (node?.kind !== 'artifact') throw new UserError(vscode.l10n.t('Pick a model file in the Models view first.'));
  return node;
}

function revealArtifact() {
  return async (arg?: unknown): Promise<void> => {
    const node = artifactNode(arg);
    await revealPath(node.folder, node.artifact.path);
  };
}

function copyArtifactPath() {
  return async (arg?: unknown): Promise<string> => {
    const node = artifactNode(arg);
    await vscode.env.clipboard.writeText(node.artifact.path);
    return node.artifact.path;
  };
}

function deleteArtifact(ctx: Ctx) {
  return async (arg?: unknown): Promise<boolean> => {
    if (!ctx.requireTrust()) return false;
    const node = artifactNode(arg);
    const confirmed = asObject(arg).confirmed === true;
    const name = path.basename(node.artifact.path);
    if (!confirmed) {
      const remove = vscode.l10n.t('Delete');
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t(
          'Delete {0} ({1}) of "{2}"? The file is removed from disk.',
          name,
          formatBytes(node.artifact.size),
          node.training.name,
        ),
        { modal: true },
        remove,
      );
      if (choice !== remove) return false;
    }
    const removed = deleteArtifactFile(node.folder.store!, node.artifact.id);
    ctx.log.info(`deleted ${removed.path} (${removed.bytes} bytes)`);
    return true;
  };
}

function pruneCheckpoints(ctx: Ctx) {
  return async (arg?: unknown): Promise<PrunePlan | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const target = await pickTraining(ctx, arg, vscode.l10n.t('Prune the checkpoints of which training?'));
    if (!target) return undefined;
    const args = asObject(arg);
    let keep = typeof args.keep === 'number' ? args.keep : undefined;
    if (keep === undefined) {
      const answer = await vscode.window.showInputBox({
        title: vscode.l10n.t('Prune checkpoints of "{0}"', target.training.name),
        prompt: vscode.l10n.t('Keep how many of the newest G and D checkpoints? (Only needed to resume training; small models are kept.)'),
        value: '1',
        validateInput: (v) => (/^\d+$/.test(v.trim()) ? undefined : vscode.l10n.t('Type a whole number, e.g. 1.')),
      });
      if (answer === undefined) return undefined;
      keep = Number(answer.trim());
    }
    const store = target.folder.store!;
    const plan = planPrune(store, target.training.id, keep);
    if (plan.remove.length === 0) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('"{0}" has no checkpoints beyond the newest {1} to delete.', target.training.name, keep),
      );
      return plan;
    }
    if (args.confirmed !== true) {
      const remove = vscode.l10n.t('Delete');
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t(
          'Delete {0} checkpoint file(s) of "{1}" and free {2}?',
          plan.remove.length,
          target.training.name,
          formatBytes(plan.bytesFreed),
        ),
        { modal: true, detail: plan.remove.map((r) => path.basename(r.path)).join('\n') },
        remove,
      );
      if (choice !== remove) return undefined;
    }
    const done = executePrune(store, target.training.id, trainingLogsDir(store, target.training), plan);
    ctx.log.info(`pruned ${done.remove.length} checkpoints of ${target.training.name}, freed ${done.bytesFreed} bytes`);
    return done;
  };
}

function showModels() {
  return async (): Promise<void> => {
    await vscode.commands.executeCommand(`${VIEW_IDS.models}.focus`);
  };
}

export const modelCommands = { revealArtifact, copyArtifactPath, deleteArtifact, pruneCheckpoints, showModels };
