import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AUX_MODEL_IDS, AUX_MODELS, AuxModelCache, type AuxModelId } from '../../core/inference/auxModels.ts';
import { addVoice, voicesDir, VoicePickNeeded, type VoiceRecord } from '../../core/models/voiceImport.ts';
import { describeProgress, type DownloadProgress } from '../../core/util/download.ts';
import { UserError } from '../../core/util/errors.ts';
import { isInside } from '../../core/util/paths.ts';
import type { Ctx } from '../ctx.ts';
import type { FolderStore } from '../folderStore.ts';
import type { AuxModelAccess } from '../panels/inferencePanelController.ts';
import { voiceBytes } from '../views/modelsView.ts';
import type { NodeOf } from '../views/nodes.ts';
import { formatBytes } from '../views/stepStates.ts';
import { asNode, asObject, folderFor } from './pickers.ts';
import { revealPath } from './taskCommands.ts';

/**
 * ContentVec/RMVPE live once per user in the extension's global storage, never in a workspace. The
 * download goes through the host's fetch, which VS Code routes by its own proxy settings.
 */
export function auxModelCache(ctx: Ctx, folder?: FolderStore): AuxModelCache {
  const settings = folder?.config.settings();
  return new AuxModelCache(path.join(ctx.extension.globalStorageUri.fsPath, 'models'), {
    ...(settings ? { mirror: settings['models.mirror'], urls: settings['models.urls'] } : {}),
  });
}

/** The cache's warnings (a copy pinned on first use, with no published hash): to the log and to the user. */
function warnUser(ctx: Ctx): (line: string) => void {
  return (line) => {
    ctx.log.warn(line);
    void vscode.window.showWarningMessage(line);
  };
}

/**
 * The inference panel's view of the cache: downloads show the same cancellable notification as
 * "Download Conversion Model…". Settings are read at each call, so a changed mirror applies at once.
 */
export function auxModelAccess(ctx: Ctx, folder: FolderStore | undefined): AuxModelAccess {
  const cache = (): AuxModelCache => auxModelCache(ctx, folder);
  const warn = warnUser(ctx);
  return {
    dir: cache().dir,
    pathIfPresent: (id) => cache().pathIfPresent(id),
    download: async (id) => {
      const status = await withDownloadProgress(vscode.l10n.t('Downloading {0}', AUX_MODELS[id].label), (signal, onProgress) =>
        cache().fetch(id, { signal, onProgress, warn }),
      );
      ctx.log.info(`${status.entry.label} stored at ${status.path} (${status.state})`);
      return status.path;
    },
    useLocalFile: async (id, file) => {
      const status = await cache().useLocalFile(id, file, { warn });
      ctx.log.info(`${status.entry.label} stored at ${status.path} from ${file} (${status.state})`);
      return status.path;
    },
  };
}

/** A cancellable notification: "ContentVec (v2): 45% 160.2/361.7 MB 12.3 MB/s ETA 0:12". */
export function withDownloadProgress<T>(
  title: string,
  work: (signal: AbortSignal, onProgress: (p: DownloadProgress) => void) => Promise<T>,
): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      const sub = token.onCancellationRequested(() => controller.abort());
      let lastPct = 0;
      try {
        return await work(controller.signal, (p) => {
          const pct = p.total ? (p.received / p.total) * 100 : 0;
          progress.report({ message: describeProgress(p), increment: Math.max(0, pct - lastPct) });
          lastPct = pct;
        });
      } finally {
        sub.dispose();
      }
    },
  );
}

/** Downloads (or takes a local copy of) ContentVec v1/v2 or RMVPE; `{ id, file? }` from a caller skips the pickers. */
function fetchConversionModel(ctx: Ctx) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const args = asObject(arg);
    const folder = vscode.workspace.workspaceFolders?.length ? await folderFor(ctx, args) : undefined;
    const cache = auxModelCache(ctx, folder);
    let id = typeof args.id === 'string' && (AUX_MODEL_IDS as readonly string[]).includes(args.id) ? (args.id as AuxModelId) : undefined;
    if (!id) {
      const picked = await vscode.window.showQuickPick(
        cache.list().map((s) => ({
          label: s.entry.label,
          description: s.present
            ? vscode.l10n.t('{0} · {1}', s.entry.fileName, s.state)
            : vscode.l10n.t('{0} · missing · {1} MB', s.entry.fileName, Math.round(s.entry.approxBytes / 1e6)),
          id: s.entry.id,
        })),
        { placeHolder: vscode.l10n.t('Which conversion model?') },
      );
      if (!picked) return undefined;
      id = picked.id;
    }
    const entry = AUX_MODELS[id];
    let file = typeof args.file === 'string' ? args.file : undefined;
    if (!file && args.download !== true) {
      const download = vscode.l10n.t('Download {0} MB', Math.round(entry.approxBytes / 1e6));
      const local = vscode.l10n.t('Use a local file…');
      const choice = await vscode.window.showInformationMessage(vscode.l10n.t('{0} ({1})', entry.label, entry.fileName), download, local);
      if (!choice) return undefined;
      if (choice === local) {
        const uris = await vscode.window.showOpenDialog({
          canSelectMany: false,
          filters: { ONNX: ['onnx'] },
          openLabel: vscode.l10n.t('Use this file'),
        });
        if (!uris?.[0]) return undefined;
        file = uris[0].fsPath;
      }
    }
    const warn = warnUser(ctx);
    const status = file
      ? await cache.useLocalFile(id, file, { warn })
      : await withDownloadProgress(vscode.l10n.t('Downloading {0}', entry.label), (signal, onProgress) =>
          cache.fetch(id, { signal, onProgress, warn }),
        );
    ctx.log.info(`${entry.label} stored at ${status.path} (${status.state})`);
    void vscode.window.showInformationMessage(vscode.l10n.t('{0} is ready ({1}).', entry.label, status.state));
    return status.path;
  };
}

/**
 * "Add Voice Model…": a zip, a folder or a .pth from the file picker, a URL (Hugging Face resolve
 * or blob), or a path/URI handed over by the Models view's drop. Several models → a quick pick.
 */
function addVoiceModel(ctx: Ctx) {
  return async (arg?: unknown): Promise<VoiceRecord | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const args = asObject(arg);
    const folder = await folderFor(ctx, args);
    if (!folder) return undefined;
    let source = typeof args.source === 'string' ? args.source : arg instanceof vscode.Uri ? arg.fsPath : undefined;
    if (!source) {
      const fromFile = vscode.l10n.t('From a file or folder…');
      const fromUrl = vscode.l10n.t('From a URL…');
      const how = await vscode.window.showQuickPick([fromFile, fromUrl], {
        placeHolder: vscode.l10n.t('Add a shared voice (a zip with NAME.pth and added_*.index)'),
      });
      if (!how) return undefined;
      if (how === fromUrl) {
        source = await vscode.window.showInputBox({
          prompt: vscode.l10n.t('A Hugging Face resolve or blob URL of a voice zip or .pth'),
          validateInput: (v) => (/^https?:\/\/\S+$/.test(v.trim()) ? undefined : vscode.l10n.t('An http(s) URL')),
        });
      } else {
        const uris = await vscode.window.showOpenDialog({
          canSelectMany: false,
          canSelectFolders: true,
          canSelectFiles: true,
          filters: { [vscode.l10n.t('Voice models')]: ['zip', 'pth'] },
          openLabel: vscode.l10n.t('Add Voice'),
        });
        source = uris?.[0]?.fsPath;
      }
      if (!source) return undefined;
    }
    const run = (pick?: string): Thenable<VoiceRecord> =>
      withDownloadProgress(vscode.l10n.t('Adding voice from {0}', path.basename(source!)), (signal, onProgress) =>
        addVoice(folder.dir, source!.trim(), {
          ...(pick ? { pick } : {}),
          ...(typeof args.name === 'string' ? { name: args.name } : {}),
          signal,
          onProgress,
        }),
      );
    let voice: VoiceRecord;
    try {
      voice = await run(typeof args.pick === 'string' ? args.pick : undefined);
    } catch (error) {
      if (!(error instanceof VoicePickNeeded)) throw error;
      const pick = await vscode.window.showQuickPick(error.choices, {
        placeHolder: vscode.l10n.t('{0} holds several models; add which?', path.basename(source)),
      });
      if (!pick) return undefined;
      voice = await run(pick);
    }
    ctx.log.info(
      `added voice ${voice.name}: ${voice.model.file} (${voice.model.sha256})${voice.index ? `, index ${voice.index.file}` : ''}`,
    );
    ctx.stores.fire(undefined);
    const convert = vscode.l10n.t('Convert with this Model');
    // Not awaited: a notification with a button stays until dismissed, and a drop or a caller waits for the voice.
    void vscode.window
      .showInformationMessage(
        voice.index
          ? vscode.l10n.t('Added voice {0} with its index.', voice.name)
          : vscode.l10n.t('Added voice {0} (no index found).', voice.name),
        convert,
      )
      .then((answer) => {
        if (answer === convert) ctx.openInference(folder, voice.model.file);
      });
    return voice;
  };
}

function voiceNode(arg: unknown): NodeOf<'voice'> {
  const node = asNode(arg);
  if (node?.kind !== 'voice') throw new UserError(vscode.l10n.t('Pick a voice under "Added voices" in the Models view first.'));
  return node;
}

function revealVoice() {
  return async (arg?: unknown): Promise<string> => {
    const node = voiceNode(arg);
    await revealPath(node.folder, node.voice.model.file);
    return node.voice.dir;
  };
}

/** Removes the voice's folder (its .pth, index and voice.json) after a modal confirmation. */
function deleteVoice(ctx: Ctx) {
  return async (arg?: unknown): Promise<boolean> => {
    if (!ctx.requireTrust()) return false;
    const node = voiceNode(arg);
    const { voice, folder } = node;
    // voice.json cannot move the folder: listVoices rebuilds it from the folder's name.
    if (!isInside(voicesDir(folder.dir), voice.dir))
      throw new UserError(vscode.l10n.t('{0} is not an added voice of this workspace.', voice.dir));
    const bytes = voiceBytes(voice);
    // A caller (a test) may pass the row with `confirmed: true` to skip the dialog.
    if ((arg as { confirmed?: unknown }).confirmed !== true) {
      const remove = vscode.l10n.t('Delete');
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t('Delete voice "{0}" ({1})? Its folder is removed from disk.', voice.name, formatBytes(bytes)),
        { modal: true, detail: voice.dir },
        remove,
      );
      if (choice !== remove) return false;
    }
    fs.rmSync(voice.dir, { recursive: true, force: true });
    ctx.log.info(`deleted voice ${voice.name} (${voice.dir}, ${bytes} bytes)`);
    ctx.stores.fire(undefined);
    return true;
  };
}

export const voiceCommands = {
  addVoiceModel,
  fetchConversionModel,
  revealVoice,
  deleteVoice,
};
