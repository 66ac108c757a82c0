import * as vscode from 'vscode';
import type { FolderStore } from '../folderStore.ts';
import type { FolderStores } from '../folderStores.ts';
import { localizedError } from '../l10n.ts';
import type { ViewNode } from './nodes.ts';

/**
 * What a row shows, comparable as a string. A command's arguments are rows themselves, so left out;
 * a MarkdownString keeps its text in a private field that JSON does not see.
 */
function snapshot(item: vscode.TreeItem): string {
  return JSON.stringify(item, (key, value: unknown) =>
    key === 'arguments' ? undefined : value instanceof vscode.MarkdownString ? value.value : value,
  );
}

/** A row's identity: its item's id, else its label. */
function idOf(item: vscode.TreeItem): string {
  return item.id ?? JSON.stringify(item.label);
}

/**
 * Shared plumbing of the three trees: updates on the stores' change event (no polling), folder rows
 * when the workspace has several folders, and a timestamp of each render after a change so tests and
 * the closing note can measure event → view latency.
 *
 * A store change refreshes only the rows whose content changed, re-firing the very objects VS Code
 * holds. A whole-tree refresh makes the extension host forget every row until the workbench asks for
 * them again, and an inline action clicked in that window (any row, while a training reports progress
 * every second) reaches its command with no row at all.
 */
export abstract class TreeProvider implements vscode.TreeDataProvider<ViewNode>, vscode.Disposable {
  protected readonly stores: FolderStores;
  private readonly changed = new vscode.EventEmitter<ViewNode | ViewNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly rendered = new vscode.EventEmitter<number>();
  /** Fires with Date.now() the first time VS Code asks for rows or items after a change. */
  readonly onDidRender = this.rendered.event;
  private readonly subscription: vscode.Disposable;
  /** The rows VS Code asked for, by parent (undefined: the root), as the objects it was given. */
  private readonly shown = new Map<ViewNode | undefined, ViewNode[]>();
  /** What each of those rows looked like (and its id) when VS Code last asked for its item. */
  private readonly held = new WeakMap<ViewNode, { id: string; snapshot: string }>();
  private renderPending = false;
  abstract readonly view: 'trainings' | 'tasks' | 'models';

  constructor(stores: FolderStores) {
    this.stores = stores;
    this.subscription = stores.onDidChange(() => this.update());
  }

  /** Re-reads the whole tree (the Refresh button, folders added or removed). */
  refresh(): void {
    this.renderPending = true;
    this.shown.clear();
    this.changed.fire(undefined);
  }

  /** Refreshes the rows whose item changed, or the whole tree when the root rows changed. */
  update(): void {
    let changed: ViewNode[] | 'all';
    try {
      changed = this.changedRows();
    } catch {
      // A row that cannot be read now (a store closing) is for the workbench's own re-read to show.
      changed = 'all';
    }
    if (changed === 'all') return this.refresh();
    if (changed.length === 0) return;
    this.renderPending = true;
    this.changed.fire(changed);
  }

  /**
   * Builds each fresh row's item once: it gives the row's id and, once its content is copied into
   * the row VS Code holds, that row's new look (items can read the store: a training row lists its
   * exports and disk use, so building them three times per row on every change added up).
   */
  private changedRows(): ViewNode[] | 'all' {
    const changed = new Set<ViewNode>();
    for (const [parent, rows] of this.shown) {
      const fresh = this.rowsFor(parent);
      const items = fresh.map((row) => this.treeItemFor(row));
      if (items.length !== rows.length || items.some((item, i) => idOf(item) !== this.shownId(rows[i]!))) {
        // Rows came or went: the parent re-reads its children (the root: the whole tree).
        if (!parent) return 'all';
        changed.add(parent);
        continue;
      }
      rows.forEach((row, i) => {
        // Same row, new content: keep the object VS Code knows, so its handle stays valid.
        for (const key of Object.keys(row)) delete (row as Record<string, unknown>)[key];
        Object.assign(row, fresh[i]);
        const look = this.held.get(row);
        if (look !== undefined && look.snapshot !== snapshot(items[i]!)) changed.add(row);
      });
    }
    return [...changed];
  }

  /** The id of a row VS Code was given: as its item had it, or read now for a row it has not asked about. */
  private shownId(node: ViewNode): string {
    return this.held.get(node)?.id ?? idOf(this.treeItemFor(node));
  }

  /** VS Code's entry point: also remembers what it was given. */
  getChildren(node?: ViewNode): ViewNode[] {
    const rows = this.rowsFor(node);
    if (!node) this.shown.clear();
    this.shown.set(node, rows);
    this.noteRender();
    return rows;
  }

  /** For TreeView.reveal: the parent VS Code was given this row under (a folder row in multi-root). */
  getParent(node: ViewNode): ViewNode | undefined {
    for (const [parent, rows] of this.shown) if (rows.includes(node)) return parent;
    if (node.kind !== 'folder' && 'folder' in node && this.stores.isMultiRoot) {
      const folder = node.folder;
      return this.shown.get(undefined)?.find((row) => row.kind === 'folder' && row.folder === folder);
    }
    return undefined;
  }

  /** The row VS Code holds for this node's id, else a fresh one (for reveal after a change). */
  protected heldOrFresh(match: (node: ViewNode) => boolean, fresh: () => ViewNode | undefined): ViewNode | undefined {
    for (const rows of this.shown.values()) {
      const found = rows.find(match);
      if (found) return found;
    }
    return fresh();
  }

  /** VS Code's entry point: also remembers what the row looked like. */
  getTreeItem(node: ViewNode): vscode.TreeItem {
    const item = this.treeItemFor(node);
    this.held.set(node, { id: idOf(item), snapshot: snapshot(item) });
    this.noteRender();
    return item;
  }

  private noteRender(): void {
    if (!this.renderPending) return;
    this.renderPending = false;
    this.rendered.fire(Date.now());
  }

  /** The rows under a parent (undefined: the root), read now; for VS Code, the diff and tests. */
  rowsFor(node?: ViewNode): ViewNode[] {
    try {
      if (node) return this.childrenOf(node);
      const folders = this.stores.all();
      return this.stores.isMultiRoot
        ? folders.map((folder): ViewNode => ({ kind: 'folder', view: this.view, folder }))
        : folders.flatMap((f) => this.folderRows(f));
    } catch (error) {
      return [{ kind: 'info', id: `error:${this.view}`, label: localizedError(error), icon: 'error' }];
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

  /** The item a row shows, read now. */
  treeItemFor(node: ViewNode): vscode.TreeItem {
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
