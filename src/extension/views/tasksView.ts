import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Task } from '../../core/runner/taskRepository.ts';
import type { FolderStore } from '../folderStore.ts';
import type { ViewNode } from './nodes.ts';
import { progressText } from './stepStates.ts';
import { TreeProvider } from './treeProvider.ts';

const RECENT_ENDED = 15;

const ORDER: Record<Task['status'], number> = { running: 0, queued: 1, failed: 2, cancelled: 2, success: 2 };

function ago(ms: number): string {
  const minutes = Math.round((Date.now() - ms) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours}h ago` : `${Math.round(hours / 24)}d ago`;
}

export function taskDescription(task: Task): string {
  switch (task.status) {
    case 'running':
      return progressText(task) || 'running';
    case 'queued':
      return 'queued';
    case 'success':
      return `done ${ago(task.finishedAt ?? task.updatedAt)}`;
    case 'failed':
      return `failed: ${task.errorMsg ?? 'see the log'}`;
    case 'cancelled':
      return `cancelled ${ago(task.finishedAt ?? task.updatedAt)}`;
    default: {
      const never: never = task.status;
      return never;
    }
  }
}

/** Tasks: running (progress, ETA), queued, then the most recent ended ones. */
export class TasksView extends TreeProvider {
  readonly view = 'tasks';

  protected rowsOf(folder: FolderStore): ViewNode[] {
    const repo = folder.tasks;
    const trainings = folder.trainings;
    if (!repo || !trainings) return [];
    const live = [...repo.list({ status: 'running', limit: 100 }), ...repo.list({ status: 'queued', limit: 100 })];
    const ended = repo
      .list({ limit: 200 })
      .filter((t) => t.status !== 'running' && t.status !== 'queued')
      .slice(0, RECENT_ENDED);
    const names = new Map<string, string>();
    const nameOf = (id: string): string => {
      let name = names.get(id);
      if (name === undefined) {
        try {
          name = trainings.get(id).name;
        } catch {
          name = id.slice(0, 8); // purged since
        }
        names.set(id, name);
      }
      return name;
    };
    return [...live, ...ended]
      .sort((a, b) => ORDER[a.status] - ORDER[b.status] || (ORDER[a.status] === 1 ? a.createdAt - b.createdAt : b.updatedAt - a.updatedAt))
      .map((task): ViewNode => ({ kind: 'task', folder, task, trainingName: nameOf(task.trainingId) }));
  }

  protected moreChildren(): ViewNode[] {
    return [];
  }

  protected itemOf(node: ViewNode): vscode.TreeItem {
    if (node.kind !== 'task') return new vscode.TreeItem('?');
    const { task, trainingName, folder } = node;
    const item = new vscode.TreeItem(`${trainingName} · ${task.stepType}`, vscode.TreeItemCollapsibleState.None);
    item.id = `tasks:${task.id}`;
    item.description = taskDescription(task);
    item.tooltip = new vscode.MarkdownString(
      `**${trainingName} · ${task.stepType}** — ${task.status}\n\nTask \`${task.id}\`` +
        (task.errorMsg ? `\n\n${task.errorMsg}` : '') +
        (task.logPath ? `\n\nLog: \`${path.basename(task.logPath)}\`` : ''),
    );
    const icons: Record<Task['status'], vscode.ThemeIcon> = {
      running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
      queued: new vscode.ThemeIcon('clock'),
      success: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
      failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
      cancelled: new vscode.ThemeIcon('circle-slash'),
    };
    item.iconPath = icons[task.status];
    item.contextValue = `task.${task.status}${folder.readonly ? '.readonly' : ''}`;
    item.command = { command: 'rvcStudio.openTaskLog', title: 'Open Log', arguments: [node] };
    return item;
  }
}
