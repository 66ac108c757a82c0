import * as fs from 'node:fs';
import type * as vscode from 'vscode';
import type { Unsubscribe } from '../core/events.ts';
import { Runner } from '../core/runner/runner.ts';
import { taskReader, type TaskReader } from '../core/runner/taskSnapshot.ts';
import { Store, storePathOf } from '../core/store/store.ts';
import { TrainingRepository } from '../core/store/trainings.ts';
import { Config } from './config.ts';
import { localizedError } from './l10n.ts';

/**
 * One workspace folder's store, and in a trusted workspace its runner. A folder without a store yet
 * has `store` undefined until Create Training or Import makes one; a store that cannot be opened
 * keeps its error for the views to show.
 */
export class FolderStore implements vscode.Disposable {
  readonly folder: vscode.WorkspaceFolder;
  readonly config: Config;
  store: Store | undefined;
  runner: Runner | undefined;
  error: string | undefined;
  readonly: boolean;
  private readonly subscriptions: Unsubscribe[] = [];
  private readonly onChange: (source: FolderStore) => void;

  constructor(folder: vscode.WorkspaceFolder, trusted: boolean, onChange: (source: FolderStore) => void) {
    this.folder = folder;
    this.config = new Config(folder.uri);
    this.readonly = !trusted;
    this.onChange = onChange;
  }

  get dir(): string {
    return this.folder.uri.fsPath;
  }

  get name(): string {
    return this.folder.name;
  }

  get hasStoreFile(): boolean {
    return fs.existsSync(storePathOf(this.dir));
  }

  /** Opens the store if its file exists (or `create`), read-only when the workspace is untrusted. */
  open({ create = false } = {}): Store | undefined {
    if (this.store?.isOpen) return this.store;
    if (!create && !this.hasStoreFile) return undefined;
    try {
      this.store = Store.open(this.dir, { readonly: this.readonly });
      this.error = undefined;
    } catch (error) {
      this.error = localizedError(error);
      this.store = undefined;
      if (create) throw error;
      return undefined;
    }
    const store = this.store;
    const changed = (): void => this.onChange(this);
    for (const name of ['trainingChanged', 'taskChanged', 'artifactsChanged', 'metricsAppended', 'externalChange'] as const) {
      this.subscriptions.push(store.events.on(name, changed));
    }
    this.subscriptions.push(store.watchExternalChanges());
    if (!this.readonly) {
      this.runner = new Runner(store, { settings: () => this.config.settings() });
      this.runner.start();
    }
    return store;
  }

  /** The store for a command that writes: created on first use. */
  require(): Store {
    return this.open({ create: true })!;
  }

  get trainings(): TrainingRepository | undefined {
    return this.store ? new TrainingRepository(this.store) : undefined;
  }

  /** The folder's tasks, read-only: they move through `runner` (its lifecycle). */
  get tasks(): TaskReader | undefined {
    return this.store ? taskReader(this.store) : undefined;
  }

  close(): void {
    this.runner?.stop();
    this.runner = undefined;
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.store?.close();
    this.store = undefined;
  }

  dispose(): void {
    this.close();
  }
}
