import * as path from 'node:path';
import * as vscode from 'vscode';
import { listArtifacts } from '../../core/models/modelRegistry.ts';
import type { Store } from '../../core/store/store.ts';
import type { Training } from '../../core/store/trainings.ts';
import { UserError } from '../../core/util/errors.ts';
import { syncTrainingArtifacts } from '../artifactSync.ts';
import type { Ctx } from '../ctx.ts';
import { CONVERTIBLE_KINDS } from '../panels/inferencePanels.ts';
import { COMMAND_PREFIX, COMMANDS, type CommandName } from './commandIds.ts';
import { trainingStateText } from '../views/trainingsView.ts';
import { installCommands } from './installCommands.ts';
import { checkpointCommands } from './checkpointCommands.ts';
import { modelCommands } from './modelCommands.ts';
import { asNode, asObject, folderFor, pickTraining } from './pickers.ts';
import { taskCommands } from './taskCommands.ts';
import { trainingCommands } from './trainingCommands.ts';
import { trainingManageCommands } from './trainingManageCommands.ts';
import { voiceCommands } from './voiceCommands.ts';

export type Cmd = (...args: unknown[]) => unknown;
export type CommandFactory = (ctx: Ctx) => Cmd;

/** Re-reads the model files of every training (they may have changed outside RVC Studio), then redraws. */
function refresh(ctx: Ctx): Cmd {
  return async () => {
    for (const folder of ctx.stores.open()) {
      for (const training of folder.trainings!.list()) {
        try {
          await syncTrainingArtifacts(folder, training);
        } catch (error) {
          ctx.log.warn(`refresh ${training.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    ctx.stores.fire(undefined);
  };
}

function showLog(ctx: Ctx): Cmd {
  return () => ctx.log.show();
}

function showMetrics(ctx: Ctx): Cmd {
  return async (arg?: unknown) => {
    const target = await pickTraining(ctx, arg, vscode.l10n.t('Show the metrics of which training?'));
    if (!target) return undefined;
    ctx.openMetrics(target.folder, target.training.id);
    return target.training.id;
  };
}

/** Overlays the curves of several trainings of one folder; compare needs at least two. */
function compareMetrics(ctx: Ctx): Cmd {
  return async (arg?: unknown) => {
    const folder = await folderFor(ctx, asObject(arg), { needStore: true });
    if (!folder?.trainings) return undefined;
    const trainings = folder.trainings.list();
    if (trainings.length < 2) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Comparing needs at least two trainings in this folder.'));
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      trainings.map((t) => ({
        label: t.name,
        description: `${trainingStateText(folder, t)} · ${t.targetSr / 1000}k ${t.modelVersion}`,
        id: t.id,
      })),
      { canPickMany: true, placeHolder: vscode.l10n.t('Compare the curves of which trainings?') },
    );
    if (!picked || picked.length === 0) return undefined;
    const ids = picked.map((p) => p.id);
    ctx.openMetricsComparison(folder, ids);
    return ids;
  };
}

function openInference(ctx: Ctx): Cmd {
  return async (arg?: unknown) => {
    const folder = await folderFor(ctx, asObject(arg), { needStore: true });
    if (!folder?.store) return undefined;
    ctx.openInference(folder);
    return true;
  };
}

/**
 * The model a training converts with: its final small model (assets/weights/{name}.pth), else its
 * newest small model, else its newest G checkpoint.
 */
function trainingModel(store: Store, training: Training): string | null {
  const artifacts = listArtifacts(store, training.id);
  const newest = (kind: string): string | null =>
    artifacts.filter((a) => a.kind === kind).sort((a, b) => (b.epoch ?? 0) - (a.epoch ?? 0))[0]?.path ?? null;
  return (
    artifacts.find((a) => a.kind === 'weights' && path.basename(a.path) === `${training.name}.pth`)?.path ??
    newest('weights') ??
    newest('checkpoint_g')
  );
}

/**
 * From a model row of the Models view (small model, G checkpoint or ONNX), an added voice or a
 * training: the panel opens with that model (and its index) chosen; a `.pth` is exported when it is
 * first converted with.
 */
function convertWithModel(ctx: Ctx): Cmd {
  return (arg?: unknown) => {
    const node = asNode(arg);
    if (node?.kind === 'voice') {
      ctx.openInference(node.folder, node.voice.model.file);
      return node.voice.model.file;
    }
    if (node?.kind === 'artifact' && CONVERTIBLE_KINDS.has(node.artifact.kind)) {
      ctx.openInference(node.folder, node.artifact.path);
      return node.artifact.path;
    }
    if ((node?.kind === 'training' || node?.kind === 'modelTraining') && node.folder.store) {
      const model = trainingModel(node.folder.store, node.training);
      if (!model) throw new UserError(vscode.l10n.t('{0} has no model yet: run its train_model step first.', node.training.name));
      ctx.openInference(node.folder, model);
      return model;
    }
    throw new UserError(
      vscode.l10n.t('Pick a model (a .pth, G checkpoint, ONNX file or added voice) in the Models view, or a training, first.'),
    );
  };
}

/** The one command table: every id in package.json's contributes.commands has exactly one entry. */
export function createCommands(): Record<CommandName, CommandFactory> {
  return {
    ...trainingCommands,
    ...trainingManageCommands,
    ...taskCommands,
    ...installCommands,
    ...modelCommands,
    ...checkpointCommands,
    ...voiceCommands,
    refresh,
    showLog,
    showMetrics,
    compareMetrics,
    openInference,
    convertWithModel,
  };
}

/** Registers the table in one loop; a handler's failure is reported here, once, the same way. */
export function registerCommands(ctx: Ctx): void {
  for (const [name, factory] of Object.entries(createCommands()) as [CommandName, CommandFactory][]) {
    const handler = factory(ctx);
    ctx.register(
      vscode.commands.registerCommand(COMMAND_PREFIX + name, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          ctx.reportError(COMMANDS[name].title, error);
          return undefined;
        }
      }),
    );
  }
}
