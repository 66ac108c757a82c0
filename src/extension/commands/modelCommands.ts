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
  if (node?.kind !== 'artifact') throw new UserError('Pick a model file in the Models view first.');
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
      const choice = await vscode.window.showWarningMessage(
        `Delete ${name} (${formatBytes(node.artifact.size)}) of "${node.training.name}"? The file is removed from disk.`,
        { modal: true },
        'Delete',
      );
      if (choice !== 'Delete') return false;
    }
    const removed = deleteArtifactFile(node.folder.store!, node.artifact.id);
    ctx.log.info(`deleted ${removed.path} (${removed.bytes} bytes)`);
    return true;
  };
}

function pruneCheckpoints(ctx: Ctx) {
  return async (arg?: unknown): Promise<PrunePlan | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const target = await pickTraining(ctx, arg, 'Prune the checkpoints of which training?');
    if (!target) return undefined;
    const args = asObject(arg);
    let keep = typeof args.keep === 'number' ? args.keep : undefined;
    if (keep === undefined) {
      const answer = await vscode.window.showInputBox({
        title: `Prune checkpoints of "${target.training.name}"`,
        prompt: 'Keep how many of the newest G and D checkpoints? (Only needed to resume training; small models are kept.)',
        value: '1',
        validateInput: (v) => (/^\d+$/.test(v.trim()) ? undefined : 'Type a whole number, e.g. 1.'),
      });
      if (answer === undefined) return undefined;
      keep = Number(answer.trim());
    }
    const store = target.folder.store!;
    const plan = planPrune(store, target.training.id, keep);
    if (plan.remove.length === 0) {
      void vscode.window.showInformationMessage(`"${target.training.name}" has no checkpoints beyond the newest ${keep} to delete.`);
      return plan;
    }
    if (args.confirmed !== true) {
      const choice = await vscode.window.showWarningMessage(
        `Delete ${plan.remove.length} checkpoint file(s) of "${target.training.name}" and free ${formatBytes(plan.bytesFreed)}?`,
        { modal: true, detail: plan.remove.map((r) => path.basename(r.path)).join('\n') },
        'Delete',
      );
      if (choice !== 'Delete') return undefined;
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
