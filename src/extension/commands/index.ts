import * as vscode from 'vscode';
import { syncTrainingArtifacts } from '../artifactSync.ts';
import { UserError } from '../../core/util/errors.ts';
import type { Ctx } from '../ctx.ts';
import { COMMAND_PREFIX, COMMANDS, type CommandName } from './commandIds.ts';
import { installCommands } from './installCommands.ts';
import { modelCommands } from './modelCommands.ts';
import { asNode, asObject, folderFor, pickTraining } from './pickers.ts';
import { taskCommands } from './taskCommands.ts';
import { trainingCommands } from './trainingCommands.ts';

export type Cmd = (...args: unknown[]) => unknown;
export type CommandFactory = (ctx: Ctx) => Cmd;

/** Re-reads the model files of every training (they may have changed outside RVC Studio), then redraws. */
function refresh(ctx: Ctx): Cmd {
  return () => {
    for (const folder of ctx.stores.open()) {
      for (const training of folder.trainings!.list()) {
        try {
          syncTrainingArtifacts(folder, training);
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
    const target = await pickTraining(ctx, arg, 'Show the metrics of which training?');
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
      void vscode.window.showInformationMessage('Comparing needs at least two trainings in this folder.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      trainings.map((t) => ({ label: t.name, description: `${t.status} · ${t.targetSr / 1000}k ${t.modelVersion}`, id: t.id })),
      { canPickMany: true, placeHolder: 'Compare the curves of which trainings?' },
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

/** From an ONNX row of the Models view: the panel opens with that model (and its index) chosen. */
function convertWithModel(ctx: Ctx): Cmd {
  return (arg?: unknown) => {
    const node = asNode(arg);
    if (node?.kind !== 'artifact' || node.artifact.kind !== 'onnx') throw new UserError('Pick an ONNX model in the Models view first.');
    ctx.openInference(node.folder, node.artifact.path);
    return node.artifact.path;
  };
}

/** The one command table: every id in package.json's contributes.commands has exactly one entry. */
export function createCommands(): Record<CommandName, CommandFactory> {
  return {
    ...trainingCommands,
    ...taskCommands,
    ...installCommands,
    ...modelCommands,
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
