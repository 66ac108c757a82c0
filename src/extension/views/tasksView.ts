import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Task } from '../../core/runner/taskRepository.ts';
import type { FolderStore } from '../folderStore.ts';
import type { ViewNode } from './nodes.ts';
import { compareTasks, formatDuration, progressText, STEP_LABELS, STEP_STATE_LABELS } from './stepStates.ts';
import { TreeProvider } from './treeProvider.ts';

const RECENT = 20;

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
      return `${STEP_STATE_LABELS.running} ${progressText(task)}`.trim();
    case 'queued':
      return STEP_STATE_LABELS.queued;
    case 'success':
      return `${STEP_STATE_LABELS.done} ${ago(task.finishedAt ?? task.updatedAt)}`;
    case 'failed':
      return `${STEP_STATE_LABELS.failed}: ${task.errorMsg ?? 'see the log'}`;
    case 'cancelled':
      return `${STEP_STATE_LABELS.cancelled} ${ago(task.finishedAt ?? task.updatedAt)}`;
    default: {
      const never: never = task.status;
      return never;
    }
  }
}

/** Tasks: the most recent tasks (and any older one still live), in the order they were queued. */
export class TasksView extends TreeProvider {
  readonly view = 'tasks';

  protected rowsOf(folder: FolderStore): ViewNode[] {
    const repo = folder.tasks;
    const trainings = folder.trainings;
    if (!repo || !trainings) return [];
    // The newest tasks by creation, whatever their state, plus any older one still live: a task
    // ending changes neither which rows are shown nor where.
    const recent = repo.list({ limit: RECENT });
    const seen = new Set(recent.map((t) => t.id));
    const live = [...repo.list({ status: 'running', limit: 100 }), ...repo.list({ status: 'queued', limit: 100 })].filter((t) => !seen.has(t.id));
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
    return [...live, ...recent]
      .sort(compareTasks)
      .map((task): ViewNode => ({ kind: 'task', folder, task, trainingName: nameOf(task.trainingId) }));
  }

  protected moreChildren(): ViewNode[] {
    return [];
  }

  protected itemOf(node: ViewNode): vscode.TreeItem {
    if (node.kind !== 'task') return new vscode.TreeItem('?');
    const { task, trainingName, folder } = node;
    const item = new vscode.TreeItem(`${trainingName} · ${STEP_LABELS[task.stepType]}`, vscode.TreeItemCollapsibleState.None);
    item.id = `tasks:${task.id}`;
    item.description = taskDescription(task);
    item.tooltip = new vscode.MarkdownString(
      `**${trainingName} · ${STEP_LABELS[task.stepType]}** (\`${task.stepType}\`) — ${taskDescription(task)}\n\nQueued ${new Date(task.createdAt).toLocaleString()}` +
        (task.startedAt ? ` · started ${new Date(task.startedAt).toLocaleString()}` : '') +
        (task.startedAt && task.finishedAt ? ` · took ${formatDuration(task.finishedAt - task.startedAt)}` : '') +
        `\n\nTask \`${task.id}\`` +
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
