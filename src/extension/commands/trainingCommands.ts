import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { listDataset } from '../../core/runner/rvcEngine.ts';
import type { Task } from '../../core/runner/taskRepository.ts';
import { F0_METHODS, MODEL_VERSIONS, SAMPLE_RATES, type F0Method, type ModelVersion, type SampleRate, type Training } from '../../core/store/trainings.ts';
import { UserError } from '../../core/util/errors.ts';
import type { Ctx } from '../ctx.ts';
import { checkGpuField, checkNameField, F0_CHOICES, SAMPLE_RATE_CHOICES, VERSION_CHOICES, type FieldCheck } from '../trainingForm.ts';
import { asObject, folderFor, pickStep, pickTraining, requireRunner } from './pickers.ts';

const STEPS = 6;

function validation(check: FieldCheck | undefined): vscode.InputBoxValidationMessage | undefined {
  if (!check) return undefined;
  return { message: check.message, severity: check.severity === 'error' ? vscode.InputBoxValidationSeverity.Error : vscode.InputBoxValidationSeverity.Warning };
}

async function pickOne<T>(title: string, step: number, items: { label: string; value: T; detail?: string }[], current: string): Promise<T | undefined> {
  const ordered = [...items].sort((a, b) => Number(b.label === current) - Number(a.label === current));
  const picked = await vscode.window.showQuickPick(ordered, { title: `Create Training (${step}/${STEPS}): ${title}`, ignoreFocusOut: true });
  return picked?.value;
}

function oneOf<T extends string | number>(value: unknown, allowed: readonly T[], what: string): T {
  if (!allowed.includes(value as T)) throw new UserError(`${what} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}.`);
  return value as T;
}

/**
 * Create Training: name (checked as you type), dataset folder, sample rate, version, f0 method, GPU.
 * A plain-object argument fills any of these in (tests, automation); what is missing is asked for.
 */
function createTraining(ctx: Ctx) {
  return async (arg?: unknown): Promise<Training | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const args = asObject(arg);
    const folder = await folderFor(ctx, args);
    if (!folder) return undefined;
    const config = folder.config;
    const exists = (name: string): boolean => folder.trainings?.findByName(name, { includeDeleted: true }) !== undefined;

    let name = typeof args.name === 'string' ? args.name : undefined;
    if (name === undefined) {
      name = await vscode.window.showInputBox({
        title: `Create Training (1/${STEPS}): name`,
        prompt: 'A short name; it becomes the folder logs/<name> and the model file <name>.pth.',
        placeHolder: 'alto-demo',
        ignoreFocusOut: true,
        validateInput: (value) => validation(checkNameField(value, exists)),
      });
      if (name === undefined) return undefined;
    }
    const nameCheck = checkNameField(name, exists);
    if (nameCheck?.severity === 'error') throw new UserError(nameCheck.message);

    let datasetPath = typeof args.datasetPath === 'string' ? args.datasetPath : undefined;
    if (datasetPath === undefined) {
      const picked = await vscode.window.showOpenDialog({
        title: `Create Training (2/${STEPS}): dataset folder (audio files of one voice)`,
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        defaultUri: folder.folder.uri,
        openLabel: 'Use as Dataset',
      });
      if (!picked?.[0]) return undefined;
      datasetPath = picked[0].fsPath;
    }
    datasetPath = path.resolve(datasetPath);
    if (!fs.existsSync(datasetPath) || !fs.statSync(datasetPath).isDirectory()) throw new UserError(`The dataset folder ${datasetPath} does not exist.`);
    const audio = listDataset(datasetPath).audio.length;
    if (audio === 0) throw new UserError(`${datasetPath} has no audio files (.wav, .flac, .mp3, …); pick the folder that holds the recordings.`);

    const targetSr: SampleRate =
      args.sampleRate !== undefined ? oneOf(Number(args.sampleRate), SAMPLE_RATES, 'Sample rate') : ((await pickOne('sample rate', 3, SAMPLE_RATE_CHOICES, config.defaultSampleRate)) ?? 0 as SampleRate);
    if (!targetSr) return undefined;
    const modelVersion: ModelVersion | undefined =
      args.version !== undefined ? oneOf(args.version as string, MODEL_VERSIONS, 'Version') : await pickOne('model version', 4, VERSION_CHOICES, config.defaultVersion);
    if (!modelVersion) return undefined;
    const f0Method: F0Method | undefined =
      args.f0Method !== undefined ? oneOf(args.f0Method as string, F0_METHODS, 'F0 method') : await pickOne('pitch (f0) method', 5, F0_CHOICES, config.defaultF0Method);
    if (!f0Method) return undefined;
    let gpuId = typeof args.gpu === 'string' ? args.gpu : undefined;
    if (gpuId === undefined) {
      gpuId = await vscode.window.showInputBox({
        title: `Create Training (6/${STEPS}): GPU`,
        prompt: 'GPU number(s) joined by "-" (0, 0-1), or cpu.',
        value: config.gpus,
        ignoreFocusOut: true,
        validateInput: (value) => validation(checkGpuField(value)),
      });
      if (gpuId === undefined) return undefined;
    }
    const gpuCheck = checkGpuField(gpuId);
    if (gpuCheck) throw new UserError(gpuCheck.message);

    folder.require();
    const training = folder.trainings!.create({ name, datasetPath, targetSr, modelVersion, f0Method, gpuId: gpuId.trim(), status: 'ready' });
    ctx.log.info(`created training ${training.name} (${audio} audio files in ${datasetPath})`);
    ctx.stores.fire(folder);
    void vscode.window.showInformationMessage(`Created training "${training.name}" (${audio} audio files). Run its steps from the Trainings view.`);
    return training;
  };
}

function runStep(ctx: Ctx) {
  return async (arg?: unknown): Promise<Task[] | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const target = await pickTraining(ctx, arg, 'Run a step of which training?');
    if (!target) return undefined;
    const step = await pickStep(arg);
    if (!step) return undefined;
    // `set`: WebUI parameter overrides for this run only (total_epoch, batch_size, …), as on the CLI.
    const set = asObject(arg).set;
    const tasks = requireRunner(target.folder).enqueue(target.training.name, step, set && typeof set === 'object' ? { set: set as Record<string, string> } : {});
    ctx.log.info(`queued ${step} for ${target.training.name} (task ${tasks[0]?.id})`);
    return tasks;
  };
}

function runFullPipeline(ctx: Ctx) {
  return async (arg?: unknown): Promise<Task[] | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const target = await pickTraining(ctx, arg, 'Run the remaining steps of which training?');
    if (!target) return undefined;
    const tasks = requireRunner(target.folder).enqueue(target.training.name, 'all');
    ctx.log.info(`queued ${tasks.map((t) => t.stepType).join(' → ')} for ${target.training.name}`);
    return tasks;
  };
}

export const trainingCommands = {
  createTraining,
  runStep,
  rerunStep: runStep,
  runFullPipeline,
};
