import * as path from 'node:path';
import * as vscode from 'vscode';
import { exportsDir, listExports, type CachedExport } from '../../core/models/exportCache.ts';
import { diskUsage, listArtifacts, type Artifact } from '../../core/models/modelRegistry.ts';
import { listVoices, type VoiceFile, type VoiceRecord } from '../../core/models/voiceImport.ts';
import type { Training } from '../../core/store/trainings.ts';
import type { FolderStore } from '../folderStore.ts';
import type { ViewNode } from './nodes.ts';
import { formatBytes } from './stepStates.ts';
import { TreeProvider } from './treeProvider.ts';

const KIND_LABELS: Record<Artifact['kind'], string> = {
  weights: 'model',
  checkpoint_g: 'G checkpoint',
  checkpoint_d: 'D checkpoint',
  onnx: 'ONNX',
  index: 'index',
};

// Final model first, then per-epoch models, the index, ONNX, and the big checkpoints last.
const KIND_ORDER: Record<Artifact['kind'], number> = { weights: 0, index: 1, onnx: 2, checkpoint_g: 3, checkpoint_d: 4 };

/** The ONNX exports (in .rvc-studio/models) made from this training's `.pth` files. */
function exportsOf(folder: FolderStore, training: Training): CachedExport[] {
  if (!folder.store) return [];
  const sources = new Set(listArtifacts(folder.store, training.id).map((a) => path.resolve(a.path)));
  return listExports(exportsDir(folder.store.workspaceDir)).filter((e) => sources.has(e.sidecar.source.path));
}

function exportRow(e: CachedExport): ViewNode {
  return {
    kind: 'info',
    id: `models:export:${path.basename(e.file)}`,
    label: `${path.basename(e.sidecar.source.path)} → ONNX`,
    description: `export · ${e.sidecar.sampleRate / 1000}k ${e.sidecar.version}${e.sidecar.f0 ? '' : ' no-pitch'} · ${formatBytes(e.bytes)}`,
    tooltip: `${e.file}\nExported by RVC Studio from ${e.sidecar.source.path} (sha256 ${e.sidecar.source.sha256.slice(0, 12)}…); rebuilt when the source changes.`,
    icon: 'circuit-board',
    contextValue: 'export',
    path: e.file,
  };
}

/** A voice's bytes on disk: its model and the index that came with it. */
export function voiceBytes(voice: VoiceRecord): number {
  return voice.model.size + (voice.index?.size ?? 0);
}

/** One file of a voice: `description` says what it is ("model · 52 MB"). */
function voiceFileRow(file: VoiceFile, description: string, icon: string): ViewNode {
  return {
    kind: 'info',
    id: `models:voiceFile:${file.file}`,
    label: path.basename(file.file),
    description,
    tooltip: vscode.l10n.t('{0}\nsha256 {1}', file.file, file.sha256),
    icon,
    contextValue: 'voiceFile',
    path: file.file,
  };
}

/** The voice's files: its .pth and the index that came with it (or a note that none did). */
function voiceFiles(voice: VoiceRecord): ViewNode[] {
  return [
    voiceFileRow(voice.model, vscode.l10n.t('model · {0}', formatBytes(voice.model.size)), 'symbol-event'),
    voice.index
      ? voiceFileRow(voice.index, vscode.l10n.t('index · {0}', formatBytes(voice.index.size)), 'database')
      : { kind: 'info', id: `models:voiceNoIndex:${voice.dir}`, label: vscode.l10n.t('no index'), icon: 'info' },
  ];
}

/**
 * Models: per training, its small models, checkpoints, ONNX files and index, with sizes; the exports
 * made from them; and the voices added to the workspace (.rvc-studio/voices/) under "Added voices".
 */
export class ModelsView extends TreeProvider {
  readonly view = 'models';

  protected rowsOf(folder: FolderStore): ViewNode[] {
    const rows = (folder.trainings?.list() ?? []).map((training): ViewNode => ({ kind: 'modelTraining', folder, training }));
    if (listVoices(folder.dir).length > 0) rows.push({ kind: 'voices', folder });
    return rows;
  }

  protected moreChildren(node: ViewNode): ViewNode[] {
    if (node.kind === 'voices')
      return listVoices(node.folder.dir).map((voice): ViewNode => ({ kind: 'voice', folder: node.folder, voice }));
    if (node.kind === 'voice') return voiceFiles(node.voice);
    if (node.kind !== 'modelTraining' || !node.folder.store) return [];
    const { folder, training } = node;
    return listArtifacts(folder.store!, training.id)
      .sort((a, b) => {
        const finalA = path.basename(a.path) === `${training.name}.pth` ? -1 : 0;
        const finalB = path.basename(b.path) === `${training.name}.pth` ? -1 : 0;
        return KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || finalA - finalB || (b.step ?? b.epoch ?? 0) - (a.step ?? a.epoch ?? 0);
      })
      .map((artifact): ViewNode => ({ kind: 'artifact', folder, training, artifact }))
      .concat(exportsOf(folder, training).map((e): ViewNode => exportRow(e)));
  }

  protected itemOf(node: ViewNode): vscode.TreeItem {
    if (node.kind === 'modelTraining') {
      const { folder, training } = node;
      const usage = folder.store ? diskUsage(folder.store, training.id) : { totalBytes: 0, byKind: {} };
      const exports = exportsOf(folder, training);
      const count = Object.values(usage.byKind).reduce((sum, k) => sum + (k?.count ?? 0), 0) + exports.length;
      usage.totalBytes += exports.reduce((sum, e) => sum + e.bytes, 0);
      const item = new vscode.TreeItem(
        training.name,
        count > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
      );
      item.id = `models:${training.id}`;
      item.description = count > 0 ? `${formatBytes(usage.totalBytes)} · ${count} file${count === 1 ? '' : 's'}` : 'no models yet';
      item.iconPath = new vscode.ThemeIcon('package');
      item.contextValue = folder.readonly ? 'modelTraining.readonly' : 'modelTraining';
      return item;
    }
    if (node.kind === 'artifact') {
      const { artifact, folder } = node;
      const item = new vscode.TreeItem(path.basename(artifact.path), vscode.TreeItemCollapsibleState.None);
      item.id = `models:artifact:${artifact.id}`;
      const epoch = artifact.epoch !== null ? ` · e${artifact.epoch}` : '';
      item.description = `${KIND_LABELS[artifact.kind]}${epoch} · ${formatBytes(artifact.size)}${artifact.pinned ? ' · pinned' : ''}`;
      item.tooltip = artifact.path;
      item.resourceUri = vscode.Uri.file(artifact.path);
      item.iconPath = new vscode.ThemeIcon(
        artifact.kind === 'index'
          ? 'database'
          : artifact.kind === 'onnx'
            ? 'circuit-board'
            : artifact.kind === 'weights'
              ? 'symbol-event'
              : 'save',
      );
      item.contextValue = `artifact.${artifact.kind}${folder.readonly ? '.readonly' : ''}`;
      return item;
    }
    if (node.kind === 'voices') {
      const voices = listVoices(node.folder.dir);
      const item = new vscode.TreeItem(vscode.l10n.t('Added voices'), vscode.TreeItemCollapsibleState.Expanded);
      item.id = `models:voices:${node.folder.dir}`;
      const bytes = voices.reduce((sum, v) => sum + voiceBytes(v), 0);
      item.description =
        voices.length === 1
          ? vscode.l10n.t('1 voice · {0}', formatBytes(bytes))
          : vscode.l10n.t('{0} voices · {1}', voices.length, formatBytes(bytes));
      item.tooltip = vscode.l10n.t(
        'Shared voices added with "Add Voice Model…", kept in {0}',
        path.join(node.folder.dir, '.rvc-studio', 'voices'),
      );
      item.iconPath = new vscode.ThemeIcon('library');
      item.contextValue = node.folder.readonly ? 'voices.readonly' : 'voices';
      return item;
    }
    if (node.kind === 'voice') {
      const { voice, folder } = node;
      const item = new vscode.TreeItem(voice.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `models:voice:${voice.dir}`;
      const pitch = voice.f0 ? vscode.l10n.t('pitch') : vscode.l10n.t('no pitch');
      const index = voice.index ? vscode.l10n.t('index') : vscode.l10n.t('no index');
      item.description = `${voice.sampleRate / 1000}k ${voice.version} · ${pitch} · ${index} · ${formatBytes(voiceBytes(voice))}`;
      item.tooltip = vscode.l10n.t(
        '{0}\nAdded from {1}\n{2} Hz, RVC {3}, {4}\nModel: {5}\nIndex: {6}',
        voice.dir,
        voice.source,
        voice.sampleRate,
        voice.version,
        pitch,
        path.basename(voice.model.file),
        voice.index ? path.basename(voice.index.file) : vscode.l10n.t('none'),
      );
      item.iconPath = new vscode.ThemeIcon('mic');
      item.contextValue = folder.readonly ? 'voice.readonly' : 'voice';
      return item;
    }
    return new vscode.TreeItem('?');
  }
}
