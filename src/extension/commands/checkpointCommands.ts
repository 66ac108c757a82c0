import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { extractSmallModel, setModelInfo } from '../../core/models/checkpointTools.ts';
import { mergeModels } from '../../core/models/modelMerge.ts';
import { listArtifacts } from '../../core/models/modelRegistry.ts';
import { addVoice, listVoices, type VoiceRecord } from '../../core/models/voiceImport.ts';
import { UserError } from '../../core/util/errors.ts';
import type { Ctx } from '../ctx.ts';
import type { FolderStore } from '../folderStore.ts';
import { asNode } from './pickers.ts';

/**
 * RVC's "ckpt processing" tab in the Models view: merge two voices, extract a small model from a
 * G checkpoint, give a model another description. Each result is written as a new added voice
 * (.rvc-studio/voices/NAME/), so it shows under "Added voices" at once and converts like any voice;
 * nothing is written over a model the user already has unless they choose so.
 */

/** A model the tab works on: a small model or G checkpoint row, or an added voice. */
interface PickedModel {
  folder: FolderStore;
  file: string;
  /** A name to build the new voice's name from. */
  stem: string;
}

/**
 * What a caller (a test, another command) passes beside the row it names, e.g. `{ ...row, info, name }`,
 * so no box is shown; asObject ignores a row's fields, which is why this reads the argument itself.
 */
const optionsOf = (arg: unknown): Record<string, unknown> =>
  arg !== null && typeof arg === 'object' ? (arg as Record<string, unknown>) : {};

const stemOf = (file: string): string => path.basename(file).replace(/\.pth$/i, '');

function pickedModel(arg: unknown, kinds: readonly string[], hint: string): PickedModel {
  const node = asNode(arg);
  if (node?.kind === 'voice' && kinds.includes('voice')) return { folder: node.folder, file: node.voice.model.file, stem: node.voice.name };
  if (node?.kind === 'artifact' && kinds.includes(node.artifact.kind)) {
    const stem = node.artifact.kind === 'checkpoint_g' ? `${node.training.name}-${stemOf(node.artifact.path)}` : stemOf(node.artifact.path);
    return { folder: node.folder, file: node.artifact.path, stem };
  }
  throw new UserError(hint);
}

/** Asks a free text; `given` (a test's or a caller's argument) skips the box. Undefined: cancelled. */
async function askText(given: unknown, options: vscode.InputBoxOptions): Promise<string | undefined> {
  if (typeof given === 'string') return given;
  return vscode.window.showInputBox(options);
}

/** The new voice's name: not one the workspace has yet, and a valid folder name (addVoice checks it too). */
async function askVoiceName(folder: FolderStore, given: unknown, suggested: string): Promise<string | undefined> {
  const taken = new Set(listVoices(folder.dir).map((v) => v.name));
  let value = suggested;
  for (let n = 2; taken.has(value); n++) value = `${suggested}-${n}`;
  return askText(given, {
    title: vscode.l10n.t('Name of the new voice'),
    value,
    validateInput: (v) => (taken.has(v.trim()) ? vscode.l10n.t('A voice named "{0}" exists already.', v.trim()) : undefined),
  });
}

/**
 * Writes the model into a scratch folder with `write`, then adds it as a voice named `name` and
 * offers to convert with it. The scratch file is removed whatever happens.
 */
async function saveAsVoice(ctx: Ctx, folder: FolderStore, name: string, write: (out: string) => Promise<unknown>): Promise<VoiceRecord> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-studio-ckpt-'));
  try {
    const out = path.join(scratch, `${name}.pth`);
    // A merge of two full-size models reads and writes about 110 MB: say so while it runs.
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Writing the voice {0}…', name) },
      () => write(out),
    );
    const voice = await addVoice(folder.dir, out, { name });
    ctx.log.info(`wrote voice ${voice.name}: ${voice.model.file} (${voice.model.sha256})`);
    ctx.stores.fire(undefined);
    const convert = vscode.l10n.t('Convert with this Model');
    // Not awaited: the notification stays until dismissed, and the caller wants the voice now.
    void vscode.window.showInformationMessage(vscode.l10n.t('Saved the new voice {0}.', voice.name), convert).then((answer) => {
      if (answer === convert) ctx.openInference(folder, voice.model.file);
    });
    return voice;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** The models of this folder a merge can take as its second voice, then a file picker. */
async function pickSecondModel(first: PickedModel, given: unknown): Promise<string | undefined> {
  if (typeof given === 'string') return given;
  const { folder } = first;
  const items: (vscode.QuickPickItem & { file: string })[] = [];
  for (const voice of listVoices(folder.dir))
    items.push({ label: voice.name, description: vscode.l10n.t('added voice'), file: voice.model.file });
  for (const training of folder.store ? (folder.trainings?.list() ?? []) : [])
    for (const artifact of listArtifacts(folder.store!, training.id))
      if (artifact.kind === 'weights' || artifact.kind === 'checkpoint_g')
        items.push({ label: path.basename(artifact.path), description: training.name, file: artifact.path });
  const browse: vscode.QuickPickItem & { file?: string } = { label: vscode.l10n.t('Browse…') };
  const picked = await vscode.window.showQuickPick([...items.filter((i) => path.resolve(i.file) !== path.resolve(first.file)), browse], {
    placeHolder: vscode.l10n.t('Merge {0} with which model?', first.stem),
  });
  if (!picked) return undefined;
  if (picked.file) return picked.file;
  const uris = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { [vscode.l10n.t('RVC models')]: ['pth'] } });
  return uris?.[0]?.fsPath;
}

const ALPHA_PATTERN = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/;

function mergeWithModel(ctx: Ctx) {
  return async (arg?: unknown): Promise<VoiceRecord | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const first = pickedModel(
      arg,
      ['weights', 'checkpoint_g', 'voice'],
      vscode.l10n.t('Pick a small model, G checkpoint or added voice in the Models view first.'),
    );
    const args = optionsOf(arg);
    const second = await pickSecondModel(first, args.with);
    if (!second) return undefined;
    const alphaText = await askText(typeof args.alpha === 'number' ? String(args.alpha) : args.alpha, {
      title: vscode.l10n.t('Weight of {0} (0 to 1; RVC\'s "weight for model A")', first.stem),
      value: '0.5',
      validateInput: (v) => (ALPHA_PATTERN.test(v.trim()) ? undefined : vscode.l10n.t('A number from 0 to 1, e.g. 0.5.')),
    });
    if (alphaText === undefined) return undefined;
    const alpha = Number(alphaText.trim());
    const info = await askText(args.info, { title: vscode.l10n.t('Description of the merged model (optional)') });
    if (info === undefined) return undefined;
    const name = await askVoiceName(first.folder, args.name, `${first.stem}-${stemOf(second)}-${alpha}`);
    if (!name) return undefined;
    return saveAsVoice(ctx, first.folder, name.trim(), (out) => mergeModels(first.file, second, { alpha, out, ...(info ? { info } : {}) }));
  };
}

function extractSmallModelCommand(ctx: Ctx) {
  return async (arg?: unknown): Promise<VoiceRecord | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const checkpoint = pickedModel(arg, ['checkpoint_g'], vscode.l10n.t('Pick a G checkpoint (G_*.pth) in the Models view first.'));
    const args = optionsOf(arg);
    const info = await askText(args.info, { title: vscode.l10n.t('Description of the small model (optional)') });
    if (info === undefined) return undefined;
    const name = await askVoiceName(checkpoint.folder, args.name, checkpoint.stem);
    if (!name) return undefined;
    return saveAsVoice(ctx, checkpoint.folder, name.trim(), (out) =>
      extractSmallModel(checkpoint.file, { out, ...(info ? { info } : {}) }),
    );
  };
}

function editModelInfo(ctx: Ctx) {
  return async (arg?: unknown): Promise<VoiceRecord | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const model = pickedModel(arg, ['weights', 'voice'], vscode.l10n.t('Pick a small model or added voice in the Models view first.'));
    const args = optionsOf(arg);
    const info = await askText(args.info, { title: vscode.l10n.t('New description of {0}', model.stem) });
    if (info === undefined) return undefined;
    const name = await askVoiceName(model.folder, args.name, `${model.stem}-info`);
    if (!name) return undefined;
    return saveAsVoice(ctx, model.folder, name.trim(), (out) => setModelInfo(model.file, info, out));
  };
}

export const checkpointCommands = {
  mergeWithModel,
  extractSmallModel: extractSmallModelCommand,
  editModelInfo,
};
