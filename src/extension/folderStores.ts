import * as vscode from 'vscode';
import { UserError } from '../core/util/errors.ts';
import { FolderStore } from './folderStore.ts';

/**
 * One store per workspace folder (multi-root), reopened when folders come and go or the user grants
 * trust. `onDidChange` fires once per burst of store events, for the views, terminals and status bar.
 */
export class FolderStores implements vscode.Disposable {
  private readonly folders = new Map<string, FolderStore>();
  private readonly changed = new vscode.EventEmitter<FolderStore | undefined>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private pending = new Set<FolderStore | undefined>();
  private scheduled = false;

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.sync()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.reopenAll()),
    );
    this.sync();
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  all(): FolderStore[] {
    return [...this.folders.values()];
  }

  /** Folders whose store is open. */
  open(): FolderStore[] {
    return this.all().filter((f) => f.store?.isOpen);
  }

  get isMultiRoot(): boolean {
    return this.folders.size > 1;
  }

  forUri(uri: vscode.Uri): FolderStore | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    return folder ? this.folders.get(folder.uri.toString()) : undefined;
  }

  /** The folder a command works on: the only one, or the one the user picks. */
  async pick(placeHolder = vscode.l10n.t('Which workspace folder?'), { needStore = false } = {}): Promise<FolderStore | undefined> {
    const candidates = needStore ? this.open() : this.all();
    if (candidates.length === 0) {
      throw new UserError(
        needStore
          ? vscode.l10n.t('No workspace folder has an RVC Studio store yet; create a training or import an RVC install first.')
          : vscode.l10n.t('Open a folder first: RVC Studio keeps its store in the workspace folder.'),
      );
    }
    if (candidates.length === 1) return candidates[0];
    const picked = await vscode.window.showQuickPick(
      candidates.map((f) => ({ label: f.name, description: f.dir, folder: f })),
      { placeHolder },
    );
    return picked?.folder;
  }

  fire(source: FolderStore | undefined): void {
    this.pending.add(source);
    if (this.scheduled) return;
    this.scheduled = true;
    // Coalesces a burst (a commit emits trainingChanged and taskChanged together) into one refresh.
    queueMicrotask(() => {
      this.scheduled = false;
      const sources = [...this.pending];
      this.pending = new Set();
      this.changed.fire(sources.length === 1 ? sources[0] : undefined);
    });
  }

  private sync(): void {
    const wanted = new Map(
      (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => [f.uri.toString(), f]),
    );
    for (const [key, store] of this.folders) {
      if (!wanted.has(key)) {
        store.dispose();
        this.folders.delete(key);
      }
    }
    for (const [key, folder] of wanted) {
      if (this.folders.has(key)) continue;
      const store = new FolderStore(folder, this.trusted, (s) => this.fire(s));
      store.open();
      this.folders.set(key, store);
    }
    this.fire(undefined);
  }

  private reopenAll(): void {
    for (const store of this.folders.values()) store.dispose();
    this.folders.clear();
    this.sync();
  }

  dispose(): void {
    for (const store of this.folders.values()) store.dispose();
    this.folders.clear();
    for (const d of this.disposables) d.dispose();
  }
}
