import * as path from 'node:path';
import * as vscode from 'vscode';
import { exportsDir, listExports, type CachedExport } from '../../core/models/exportCache.ts';
import { diskUsage, listArtifacts, type Artifact } from '../../core/models/modelRegistry.ts';
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

/** Models: per training, its small models, checkpoints, ONNX files and index, with sizes; and the exports made from them. */
export class ModelsView extends TreeProvider {
  readonly view = 'models';

  protected rowsOf(folder: FolderStore): ViewNode[] {
    return (folder.trainings?.list() ?? []).map((training): ViewNode => ({ kind: 'modelTraining', folder, training }));
  }

  protected moreChildren(node: ViewNode): ViewNode[] {
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
      const item = new vscode.TreeItem(training.name, count > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
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
      item.iconPath = new vscode.ThemeIcon(artifact.kind === 'index' ? 'database' : artifact.kind === 'onnx' ? 'circuit-board' : artifact.kind === 'weights' ? 'symbol-event' : 'save');
      item.contextValue = `artifact.${artifact.kind}${folder.readonly ? '.readonly' : ''}`;
      return item;
    }
    return new vscode.TreeItem('?');
  }
}
