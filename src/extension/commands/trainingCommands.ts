import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { probeDeviceAsync, type ProbeResult } from '../../core/runner/device.ts';
import { listDataset, pythonOf, rvcRootOf } from '../../core/runner/rvcEngine.ts';
import type { Task } from '../../core/runner/taskSnapshot.ts';
import {
  F0_METHODS,
  MODEL_VERSIONS,
  SAMPLE_RATES,
  type F0Method,
  type ModelVersion,
  type NewTraining,
  type SampleRate,
  type Training,
} from '../../core/store/trainings.ts';
import type { Settings } from '../../core/settings.ts';
import { UserError, isUserError } from '../../core/util/errors.ts';
import type { Config } from '../config.ts';
import type { Ctx } from '../ctx.ts';
import type { FolderStore } from '../folderStore.ts';
import {
  checkCountField,
  checkGpuField,
  checkNameField,
  defaultBatchSize,
  defaultPretrained,
  F0_CHOICES,
  gpuChoices,
  SAMPLE_RATE_CHOICES,
  VERSION_CHOICES,
  type FieldCheck,
} from '../trainingForm.ts';
import { asObject, folderFor, pickStep, pickTraining, requireRunner } from './pickers.ts';
import { Wizard, type WizardItem } from './wizard.ts';

const STEPS = 9;

/** A field check (trainingForm.ts) as an input box shows it. */
export function validation(check: FieldCheck | undefined): vscode.InputBoxValidationMessage | undefined {
  if (!check) return undefined;
  return {
    message: check.message,
    severity: check.severity === 'error' ? vscode.InputBoxValidationSeverity.Error : vscode.InputBoxValidationSeverity.Warning,
  };
}

function oneOf<T extends string | number>(value: unknown, allowed: readonly T[], what: string): T {
  if (!allowed.includes(value as T)) throw new UserError(`${what} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}.`);
  return value as T;
}

/** The dataset folder, resolved: it must exist and hold audio. */
export function checkedDataset(datasetPath: string): { datasetPath: string; audio: number } {
  const resolved = path.resolve(datasetPath);
  if (!fs.existsSync(resolved) || !fs.statSync(resolved).isDirectory())
    throw new UserError(vscode.l10n.t('The dataset folder {0} does not exist.', resolved));
  const audio = listDataset(resolved).audio.length;
  if (audio === 0)
    throw new UserError(
      vscode.l10n.t('{0} has no audio files (.wav, .flac, .mp3, …); pick the folder that holds the recordings.', resolved),
    );
  return { datasetPath: resolved, audio };
}

const BROWSE = '\u0000browse';

/** Folders of the workspace (two levels down) that hold audio: what the dataset step offers first. */
function datasetCandidates(root: string): string[] {
  const found: string[] = [];
  const visit = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // a folder that vanished or cannot be listed just adds no candidates to this optional scan
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'logs') continue;
      const full = path.join(dir, entry.name);
      if (listDataset(full).audio.length > 0) found.push(full);
      if (depth < 2) visit(full, depth + 1);
    }
  };
  visit(root, 1);
  return found.slice(0, 30);
}

/** The dataset step: a folder of the workspace with audio, a path typed in, or the folder dialog. */
async function pickDataset(wizard: Wizard, folder: FolderStore): Promise<string | undefined> {
  const items: WizardItem<string>[] = datasetCandidates(folder.dir).map((dir) => ({
    label: path.relative(folder.dir, dir),
    description: vscode.l10n.t('{0} audio files', listDataset(dir).audio.length),
    value: dir,
  }));
  items.push({ label: vscode.l10n.t('$(folder-opened) Browse…'), description: vscode.l10n.t('pick a folder elsewhere'), value: BROWSE });
  const chosen = await wizard.pick(2, vscode.l10n.t('dataset folder (audio files of one voice)'), items, {
    placeholder: vscode.l10n.t('A folder of this workspace, or type the path of one'),
    typed: (value) => (path.isAbsolute(value) ? { label: value, description: vscode.l10n.t('use this folder'), value } : undefined),
  });
  if (chosen !== BROWSE) return chosen;
  wizard.pause();
  const picked = await vscode.window.showOpenDialog({
    title: vscode.l10n.t('Create Training: dataset folder (audio files of one voice)'),
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    defaultUri: folder.folder.uri,
    openLabel: vscode.l10n.t('Use as Dataset'),
  });
  return picked?.[0]?.fsPath;
}

/** The devices the user's RVC Python sees, asked once per Create Training (importing torch takes seconds). */
async function detectGpus(folder: FolderStore): Promise<ProbeResult['gpus'] | undefined> {
  const settings = folder.config.settings();
  if (settings['runner.device'] === 'cpu' || settings['runner.device'] === 'mps') return undefined;
  try {
    const rvcRoot = rvcRootOf(settings, null);
    const probe = await probeDeviceAsync(pythonOf(settings, rvcRoot), rvcRoot);
    return probe.cuda ? probe.gpus : [];
  } catch (error) {
    // A Python that does not run or answers oddly only loses the GPU pick (the runner says why later).
    if (!isUserError(error)) throw error;
    return undefined;
  }
}

/**
 * Create Training: name (checked as you type), dataset folder, sample rate, version, f0 method, GPU,
 * epochs, batch size and pretrained models, in one quick input that keeps the keyboard focus from the
 * first step to the last (see Wizard). A plain-object argument fills any of these in (tests,
 * automation); what is missing is asked for. The new training is revealed and selected.
 */
function createTraining(ctx: Ctx) {
  return async (arg?: unknown): Promise<Training | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const args = asObject(arg);
    const folder = await folderFor(ctx, args);
    if (!folder) return undefined;
    const wizard = new Wizard(vscode.l10n.t('Create Training'), STEPS);
    try {
      return await createTrainingSteps(ctx, folder, args, wizard);
    } finally {
      wizard.dispose();
    }
  };
}

/** What every step of one Create Training reads. */
interface CreateTrainingRun {
  wizard: Wizard;
  /** The command's argument: a field given here is not asked for. */
  args: Record<string, unknown>;
  config: Config;
  /** The settings as they were when the command began, read once so every step sees the same. */
  settings: Settings;
  /** The devices detected, asked in the background while the first steps are answered. */
  gpus: Promise<ProbeResult['gpus'] | undefined>;
}

/** The three choices that fix the model's shape (and which pretrained models fit it). */
interface ModelFormat {
  targetSr: SampleRate;
  modelVersion: ModelVersion;
  f0Method: F0Method;
}

/**
 * The wizard's steps in order, each answered by the argument where it can be; undefined when the
 * user cancels a step. An answer the core would refuse throws a UserError, so nothing is created.
 */
async function createTrainingSteps(
  ctx: Ctx,
  folder: FolderStore,
  args: Record<string, unknown>,
  wizard: Wizard,
): Promise<Training | undefined> {
  const config = folder.config;
  const settings = config.settings();
  // Asked in the background while the first steps are answered.
  const gpus = typeof args.gpu === 'string' ? Promise.resolve(undefined) : detectGpus(folder);
  const run: CreateTrainingRun = { wizard, args, config, settings, gpus };

  const name = await askName(run, folder);
  if (name === undefined) return undefined;
  const typedDataset = typeof args.datasetPath === 'string' ? args.datasetPath : await pickDataset(wizard, folder);
  if (typedDataset === undefined) return undefined;
  const { datasetPath, audio } = checkedDataset(typedDataset);
  const format = await askModelFormat(run);
  if (!format) return undefined;
  const gpuId = await askGpu(run);
  if (gpuId === undefined) return undefined;
  const params = await askTrainingParams(run, format);
  if (!params) return undefined;

  const { targetSr, modelVersion, f0Method } = format;
  const newTraining: NewTraining = { name, datasetPath, targetSr, modelVersion, f0Method, gpuId: gpuId.trim(), status: 'ready', params };
  return await saveTraining(ctx, folder, newTraining, audio);
}

/** Step 1: the name, checked as it is typed, and checked again when the argument gave it. */
async function askName({ wizard, args }: CreateTrainingRun, folder: FolderStore): Promise<string | undefined> {
  const exists = (name: string): boolean => folder.trainings?.findByName(name, { includeDeleted: true }) !== undefined;
  let name = typeof args.name === 'string' ? args.name : undefined;
  if (name === undefined) {
    name = await wizard.input(1, vscode.l10n.t('name'), {
      prompt: vscode.l10n.t('A short name; it becomes the folder logs/<name> and the model file <name>.pth.'),
      placeholder: 'alto-demo',
      validate: (value) => validation(checkNameField(value, exists)),
    });
    if (name === undefined) return undefined;
  }
  const nameCheck = checkNameField(name, exists);
  if (nameCheck?.severity === 'error') throw new UserError(nameCheck.message);
  return name;
}

/** Steps 3 to 5: sample rate, model version and f0 method, each offered with its setting's default active. */
async function askModelFormat({ wizard, args, config }: CreateTrainingRun): Promise<ModelFormat | undefined> {
  const targetSr: SampleRate | undefined =
    args.sampleRate !== undefined
      ? oneOf(Number(args.sampleRate), SAMPLE_RATES, 'Sample rate')
      : await wizard.pick(3, vscode.l10n.t('sample rate'), SAMPLE_RATE_CHOICES, {
          active: (Number.parseInt(config.defaultSampleRate, 10) * 1000) as SampleRate,
        });
  if (!targetSr) return undefined;
  const modelVersion: ModelVersion | undefined =
    args.version !== undefined
      ? oneOf(args.version as string, MODEL_VERSIONS, 'Version')
      : await wizard.pick(4, vscode.l10n.t('model version'), VERSION_CHOICES, { active: config.defaultVersion });
  if (!modelVersion) return undefined;
  const f0Method: F0Method | undefined =
    args.f0Method !== undefined
      ? oneOf(args.f0Method as string, F0_METHODS, 'F0 method')
      : await wizard.pick(5, vscode.l10n.t('pitch (f0) method'), F0_CHOICES, { active: config.defaultF0Method });
  if (!f0Method) return undefined;
  return { targetSr, modelVersion, f0Method };
}

/** Step 6: the GPU, offered from the devices detected (waited for only here); checked either way. */
async function askGpu({ wizard, args, config, settings, gpus }: CreateTrainingRun): Promise<string | undefined> {
  let gpuId = typeof args.gpu === 'string' ? args.gpu : undefined;
  if (gpuId === undefined) {
    const choices = gpuChoices(settings['runner.device'], await gpus, config.gpus);
    gpuId = await wizard.pick(6, vscode.l10n.t('GPU'), choices.items, { active: choices.active });
    if (gpuId === undefined) return undefined;
  }
  const gpuCheck = checkGpuField(gpuId);
  if (gpuCheck) throw new UserError(gpuCheck.message);
  return gpuId;
}

/**
 * Steps 7 to 9: epochs, batch size and pretrained models, as the training's WebUI parameters. Only
 * an epoch count or batch size that differs from the settings is stored with the training.
 */
async function askTrainingParams(run: CreateTrainingRun, format: ModelFormat): Promise<Record<string, unknown> | undefined> {
  const { args, settings } = run;
  const params: Record<string, unknown> = {};
  // Called with a name (tests, automation): the optional parameters take their defaults unasked.
  const automated = typeof args.name === 'string';
  const epochs = await askCount(run, automated, {
    step: 7,
    what: vscode.l10n.t('epochs'),
    fallback: settings['train.totalEpoch'],
    prompt: vscode.l10n.t("Total epochs to train; RVC's WebUI offers 20 (2 to 1000)."),
    given: args.epochs,
  });
  if (epochs === undefined) return undefined;
  const batchSize = await askCount(run, automated, {
    step: 8,
    what: vscode.l10n.t('batch size'),
    fallback: defaultBatchSize(await run.gpus, settings['train.batchSize']),
    prompt: vscode.l10n.t("Batch size per GPU; RVC's WebUI offers half the card's memory in GB (4 is safe on 8 GB)."),
    given: args.batchSize,
  });
  if (batchSize === undefined) return undefined;
  if (epochs !== settings['train.totalEpoch']) params.total_epoch = epochs;
  if (batchSize !== settings['train.batchSize']) params.batch_size = batchSize;

  const pretrained = await askPretrained(run, automated, format);
  if (pretrained === undefined) return undefined;
  if (pretrained === 'none') Object.assign(params, { pretrainG: 'none', pretrainD: 'none' });
  return params;
}

/** One count step (epochs, batch size): what the argument gave, else its default when automated, else asked. */
async function askCount(
  { wizard }: CreateTrainingRun,
  automated: boolean,
  count: { step: number; what: string; fallback: number; prompt: string; given: unknown },
): Promise<number | undefined> {
  const { step, what, fallback, prompt, given } = count;
  if (given !== undefined) return checkedCount(String(given), what);
  if (automated) return fallback;
  const typed = await wizard.input(step, what, {
    prompt,
    value: String(fallback),
    validate: (value) => validation(checkCountField(value)),
  });
  return typed === undefined ? undefined : checkedCount(typed, what);
}

/** Step 9: '' for RVC's own pretrained models (the default, and what automation gets), 'none' for none. */
async function askPretrained(
  { wizard, args, settings }: CreateTrainingRun,
  automated: boolean,
  format: ModelFormat,
): Promise<string | undefined> {
  if (typeof args.pretrained === 'string') return args.pretrained;
  if (automated) return '';
  const choices = pretrainedChoices(settings['rvc.root'], format.modelVersion, format.targetSr);
  return await wizard.pick(9, vscode.l10n.t('pretrained models'), choices, { active: '' });
}

/** Creates the training, then shows it: revealed and selected in the Trainings view, and a message. */
async function saveTraining(ctx: Ctx, folder: FolderStore, newTraining: NewTraining, audio: number): Promise<Training> {
  folder.require();
  const training = folder.trainings!.create(newTraining);
  ctx.log.info(`created training ${training.name} (${audio} audio files in ${newTraining.datasetPath})`);
  ctx.stores.fire(folder);
  await ctx.revealTraining(folder, training.id);
  void vscode.window.showInformationMessage(
    vscode.l10n.t('Created training "{0}" ({1} audio files). Run its steps from the Trainings view.', training.name, audio),
  );
  return training;
}

/** RVC's own pretrained G/D for this rate and version (offered first), or none. */
function pretrainedChoices(rvcRoot: string, version: ModelVersion, sampleRate: SampleRate): WizardItem<string>[] {
  const { g, d } = defaultPretrained(version, true, sampleRate);
  const present = rvcRoot !== '' && fs.existsSync(path.join(rvcRoot, g)) && fs.existsSync(path.join(rvcRoot, d));
  return [
    {
      label: vscode.l10n.t("RVC's pretrained models"),
      description: `${g} · ${path.basename(d)}`,
      detail: present
        ? vscode.l10n.t('The WebUI default: fine-tune from them (found in the RVC install).')
        : vscode.l10n.t(
            "The WebUI default; not found in the RVC install yet (RVC's tools/download_models.py fetches them), so train_model will ask for them.",
          ),
      value: '',
    },
    {
      label: vscode.l10n.t('None'),
      description: vscode.l10n.t('train from scratch'),
      detail: vscode.l10n.t('Needs far more data and epochs.'),
      value: 'none',
    },
  ];
}

function checkedCount(value: string, what: string): number {
  const check = checkCountField(value);
  if (check) throw new UserError(`${what}: ${check.message}`);
  return Number(value.trim());
}

function runStep(ctx: Ctx) {
  return async (arg?: unknown): Promise<Task[] | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const target = await pickTraining(ctx, arg, vscode.l10n.t('Run a step of which training?'));
    if (!target) return undefined;
    const step = await pickStep(arg);
    if (!step) return undefined;
    // `set`: WebUI parameter overrides for this run only (total_epoch, batch_size, …), as on the CLI.
    const set = asObject(arg).set;
    const tasks = requireRunner(target.folder).enqueue(
      target.training.name,
      step,
      set && typeof set === 'object' ? { set: set as Record<string, string> } : {},
    );
    ctx.log.info(`queued ${step} for ${target.training.name} (task ${tasks[0]?.id})`);
    return tasks;
  };
}

function runFullPipeline(ctx: Ctx) {
  return async (arg?: unknown): Promise<Task[] | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const target = await pickTraining(ctx, arg, vscode.l10n.t('Run the remaining steps of which training?'));
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
