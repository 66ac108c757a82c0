import * as vscode from 'vscode';
import { errorMessage } from '../../core/util/errors.ts';
import type { FolderStore } from '../folderStore.ts';
import type { FolderStores } from '../folderStores.ts';
import type { ViewNode } from './nodes.ts';

/**
 * Shared plumbing of the three trees: refresh on the stores' change event (no polling), folder rows
 * when the workspace has several folders, and a timestamp of the last root render so tests and the
 * closing note can measure event → view latency.
 */
export abstract class TreeProvider implements vscode.TreeDataProvider<ViewNode>, vscode.Disposable {
  protected readonly stores: FolderStores;
  private readonly changed = new vscode.EventEmitter<ViewNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly rendered = new vscode.EventEmitter<number>();
  /** Fires with Date.now() each time VS Code has asked for the root rows after a refresh. */
  readonly onDidRender = this.rendered.event;
  private readonly subscription: vscode.Disposable;
  abstract readonly view: 'trainings' | 'tasks' | 'models';

  constructor(stores: FolderStores) {
    this.stores = stores;
    this.subscription = stores.onDidChange(() => this.refresh());
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: ViewNode): ViewNode[] {
    try {
      if (node) return this.childrenOf(node);
      const folders = this.stores.all();
      const rows = this.stores.isMultiRoot ? folders.map((folder): ViewNode => ({ kind: 'folder', view: this.view, folder })) : folders.flatMap((f) => this.folderRows(f));
      this.rendered.fire(Date.now());
      return rows;
    } catch (error) {
      return [{ kind: 'info', id: `error:${this.view}`, label: errorMessage(error), icon: 'error' }];
    }
  }

  protected childrenOf(node: ViewNode): ViewNode[] {
    if (node.kind === 'folder') return this.folderRows(node.folder);
    return this.moreChildren(node);
  }

  /** The rows of one folder: its store's error, or what the view shows. */
  protected folderRows(folder: FolderStore): ViewNode[] {
    if (folder.error) return [{ kind: 'info', id: `${folder.dir}:error`, label: folder.error, icon: 'error', tooltip: folder.error }];
    if (!folder.store) return [];
    return this.rowsOf(folder);
  }

  protected abstract rowsOf(folder: FolderStore): ViewNode[];
  protected abstract moreChildren(node: ViewNode): ViewNode[];
  protected abstract itemOf(node: ViewNode): vscode.TreeItem;

  getTreeItem(node: ViewNode): vscode.TreeItem {
    if (node.kind === 'folder') {
      const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `${this.view}:folder:${node.folder.dir}`;
      item.iconPath = vscode.ThemeIcon.Folder;
      item.description = node.folder.readonly ? 'read-only' : undefined;
      item.contextValue = 'folder';
      return item;
    }
    if (node.kind === 'info') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.id = `${this.view}:${node.id}`;
      item.description = node.description;
      item.tooltip = node.tooltip;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      item.contextValue = node.contextValue;
      if (node.path) item.resourceUri = vscode.Uri.file(node.path);
      return item;
    }
    return this.itemOf(node);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
    this.rendered.dispose();
  }
}
