import * as vscode from 'vscode';
import { isFinal } from '../core/store/vocabulary.ts';
import type { Task } from '../core/runner/taskSnapshot.ts';
import type { FolderStore } from './folderStore.ts';
import type { FolderStores } from './folderStores.ts';
import { isUserErrorCode } from '../core/util/errors.ts';

export interface MonitoredTask {
  folder: FolderStore;
  task: Task;
  trainingName: string;
}

/**
 * Turns the stores' change events into task transitions for the terminals, the status bar and
 * the notifications: which tasks run now, which started, which ended since the last look. Tasks
 * already running when the window opens count as started (so their terminals come back).
 */
export class TaskMonitor implements vscode.Disposable {
  private readonly stores: FolderStores;
  private readonly live = new Map<string, MonitoredTask>();
  private readonly started = new vscode.EventEmitter<MonitoredTask>();
  private readonly ended = new vscode.EventEmitter<MonitoredTask>();
  private readonly changed = new vscode.EventEmitter<MonitoredTask[]>();
  readonly onDidStart = this.started.event;
  readonly onDidEnd = this.ended.event;
  /** Fires after every look with the tasks running now. */
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;
  running: MonitoredTask[] = [];

  constructor(stores: FolderStores) {
    this.stores = stores;
    this.subscription = stores.onDidChange(() => this.look());
  }

  look(): void {
    const seen = new Set<string>();
    const running: MonitoredTask[] = [];
    for (const folder of this.stores.open()) {
      const repo = folder.tasks!;
      const trainings = folder.trainings!;
      const current = [...repo.list({ status: 'running', limit: 100 }), ...repo.list({ status: 'queued', limit: 100 })];
      for (const task of current) {
        const key = `${folder.dir}\u0000${task.id}`;
        seen.add(key);
        const entry = { folder, task, trainingName: this.nameOf(folder, task.trainingId, trainings) };
        const before = this.live.get(key);
        this.live.set(key, entry);
        if (task.status === 'running') {
          running.push(entry);
          if (before?.task.status !== 'running') this.started.fire(entry);
        }
      }
    }
    for (const [key, entry] of [...this.live]) {
      if (seen.has(key)) continue;
      this.live.delete(key);
      if (!entry.folder.store?.isOpen) continue;
      let task: Task;
      try {
        task = entry.folder.tasks!.get(entry.task.id);
      } catch (error) {
        if (isUserErrorCode(error, 'no-task')) continue; // purged with its training
        throw error;
      }
      if (isFinal(task.status)) this.ended.fire({ ...entry, task });
    }
    this.running = running;
    this.changed.fire(running);
  }

  private nameOf(_folder: FolderStore, trainingId: string, trainings: NonNullable<FolderStore['trainings']>): string {
    try {
      return trainings.get(trainingId).name;
    } catch (error) {
      if (isUserErrorCode(error, 'no-training')) return trainingId.slice(0, 8); // purged since
      throw error;
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.started.dispose();
    this.ended.dispose();
    this.changed.dispose();
  }
}
