import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Task } from '../../core/runner/taskSnapshot.ts';
import type { FolderStore } from '../folderStore.ts';
import type { ViewNode } from './nodes.ts';
import { compareTasks, formatDuration, progressText, STEP_LABELS, STEP_STATE_LABELS } from './stepStates.ts';
import { TreeProvider } from './treeProvider.ts';
import { isUserErrorCode } from '../../core/util/errors.ts';

const RECENT = 20;

function ago(ms: number): string {
  const minutes = Math.round((Date.now() - ms) / 60_000);
  if (minutes < 1) return vscode.l10n.t('just now');
  if (minutes < 60) return vscode.l10n.t('{0}m ago', minutes);
  const hours = Math.round(minutes / 60);
  return hours < 48 ? vscode.l10n.t('{0}h ago', hours) : vscode.l10n.t('{0}d ago', Math.round(hours / 24));
}

/**
 * A Slurm task's job in words: "queued on debug, job 41231, reason: Priority" while it waits.
 * `settled`: the task has ended, so its job is not queued whatever state was last read for it (a
 * short job can end between two polls, and the step's exit record settles the task first).
 */
export function slurmJobDescription(job: NonNullable<Task['slurm']>, settled = false): string {
  const { jobId, partition, reason } = job;
  if (!settled && (job.state === null || job.state === 'PENDING')) {
    if (partition && reason) return vscode.l10n.t('queued on {0}, job {1}, reason: {2}', partition, jobId, reason);
    if (reason) return vscode.l10n.t('queued, job {0}, reason: {1}', jobId, reason);
    return partition ? vscode.l10n.t('queued on {0}, job {1}', partition, jobId) : vscode.l10n.t('queued, job {0}', jobId);
  }
  return partition ? vscode.l10n.t('job {0} on {1}', jobId, partition) : vscode.l10n.t('job {0}', jobId);
}

export function taskDescription(task: Task): string {
  switch (task.status) {
    case 'running':
      // A submitted Slurm job is running for the queue but may still wait on the cluster.
      if (task.slurm && (task.slurm.state === null || task.slurm.state === 'PENDING')) return slurmJobDescription(task.slurm);
      if (task.slurm) return `${STEP_STATE_LABELS.running} ${progressText(task)} · ${slurmJobDescription(task.slurm)}`.replace('  ', ' ');
      return `${STEP_STATE_LABELS.running} ${progressText(task)}`.trim();
    case 'queued':
      return STEP_STATE_LABELS.queued;
    case 'success':
      return `${STEP_STATE_LABELS.done} ${ago(task.finishedAt ?? task.updatedAt)}`;
    case 'failed':
      return `${STEP_STATE_LABELS.failed}: ${task.errorMsg ?? vscode.l10n.t('see the log')}`;
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
    const live = [...repo.list({ status: 'running', limit: 100 }), ...repo.list({ status: 'queued', limit: 100 })].filter(
      (t) => !seen.has(t.id),
    );
    const names = new Map<string, string>();
    const nameOf = (id: string): string => {
      let name = names.get(id);
      if (name === undefined) {
        try {
          name = trainings.get(id).name;
        } catch (error) {
          if (!isUserErrorCode(error, 'no-training')) throw error;
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
      `**${trainingName} · ${STEP_LABELS[task.stepType]}** (\`${task.stepType}\`) — ${taskDescription(task)}\n\n${vscode.l10n.t('Queued {0}', new Date(task.createdAt).toLocaleString())}` +
        (task.startedAt ? ` · ${vscode.l10n.t('started {0}', new Date(task.startedAt).toLocaleString())}` : '') +
        (task.startedAt && task.finishedAt ? ` · ${vscode.l10n.t('took {0}', formatDuration(task.finishedAt - task.startedAt))}` : '') +
        `\n\n${vscode.l10n.t('Task {0}', `\`${task.id}\``)}` +
        (task.slurm
          ? `\n\n${vscode.l10n.t('Slurm: {0}', slurmJobDescription(task.slurm, task.status !== 'running' && task.status !== 'queued'))}`
          : '') +
        (task.errorMsg ? `\n\n${task.errorMsg}` : '') +
        (task.logPath ? `\n\n${vscode.l10n.t('Log: {0}', `\`${path.basename(task.logPath)}\``)}` : ''),
    );
    const icons: Record<Task['status'], vscode.ThemeIcon> = {
      running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
      queued: new vscode.ThemeIcon('clock'),
      success: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
      failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
      cancelled: new vscode.ThemeIcon('circle-slash'),
    };
    item.iconPath =
      task.status === 'running' && task.slurm && (task.slurm.state === null || task.slurm.state === 'PENDING')
        ? icons.queued
        : icons[task.status];
    item.contextValue = `task.${task.status}${folder.readonly ? '.readonly' : ''}`;
    item.command = { command: 'rvcStudio.openTaskLog', title: vscode.l10n.t('Open Log'), arguments: [node] };
    return item;
  }
}
