import * as vscode from 'vscode';
import { GENERATOR_LOSS_TAGS } from '../../core/metrics/bestEpoch.ts';
import { latestMetric, metricsSummary, trainingsWithIndex } from '../../core/store/sidebarQueries.ts';
import type { Training, TrainingStatus } from '../../core/store/trainings.ts';
import type { FolderStore } from '../folderStore.ts';
import type { ViewNode } from './nodes.ts';
import { STEP_LABELS, stepRows, type StepState } from './stepStates.ts';
import { TreeProvider } from './treeProvider.ts';

const STATUS_ICONS: Record<TrainingStatus, [string, string | undefined]> = {
  draft: ['circle-outline', undefined],
  ready: ['circle-large-outline', undefined],
  training: ['sync~spin', 'charts.blue'],
  finished: ['pass-filled', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
};

const STEP_ICONS: Record<StepState, [string, string | undefined]> = {
  done: ['check', 'testing.iconPassed'],
  running: ['sync~spin', 'charts.blue'],
  queued: ['clock', undefined],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', undefined],
  notRun: ['circle-outline', undefined],
  skipped: ['dash', undefined],
};

function icon([id, color]: [string, string | undefined]): vscode.ThemeIcon {
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

export function trainingDescription(folder: FolderStore, training: Training): string {
  const parts = [`${training.targetSr / 1000}k`, training.modelVersion];
  const loss = folder.store ? latestMetric(folder.store, training.id, GENERATOR_LOSS_TAGS) : undefined;
  if (loss) parts.push(`G loss ${Number.isFinite(loss.value) ? loss.value.toFixed(3) : String(loss.value)}${loss.epoch !== null ? ` @e${loss.epoch}` : ''}`);
  return parts.join(' · ');
}

/** Trainings: each training with its five steps, dataset and a metrics summary. */
export class TrainingsView extends TreeProvider {
  readonly view = 'trainings';

  protected rowsOf(folder: FolderStore): ViewNode[] {
    return (folder.trainings?.list() ?? []).map((training): ViewNode => ({ kind: 'training', folder, training }));
  }

  protected moreChildren(node: ViewNode): ViewNode[] {
    if (node.kind !== 'training') return [];
    const { folder, training } = node;
    const store = folder.store;
    if (!store) return [];
    const tasks = folder.tasks?.list({ trainingId: training.id, limit: 200 }) ?? [];
    const rows: ViewNode[] = stepRows(training, tasks, trainingsWithIndex(store).has(training.id)).map((row) => ({ kind: 'step', folder, training, row }));
    rows.push({
      kind: 'info',
      id: `${training.id}:dataset`,
      label: 'Dataset',
      description: training.datasetPath ?? 'none chosen',
      tooltip: training.datasetPath ?? 'No dataset folder: preprocess needs one.',
      icon: 'folder-library',
      contextValue: training.datasetPath ? 'dataset' : undefined,
      ...(training.datasetPath ? { path: training.datasetPath } : {}),
    });
    const summary = metricsSummary(store, training.id);
    rows.push({
      kind: 'info',
      id: `${training.id}:metrics`,
      label: 'Metrics',
      description: summary.points === 0 ? 'none yet' : `${summary.series} series · ${summary.points} points${summary.lastEpoch !== null ? ` · epoch ${summary.lastEpoch}` : ''}`,
      icon: 'graph-line',
      contextValue: 'metrics',
    });
    return rows;
  }

  protected itemOf(node: ViewNode): vscode.TreeItem {
    if (node.kind === 'training') {
      const { training, folder } = node;
      const item = new vscode.TreeItem(training.name, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `trainings:${training.id}`;
      item.description = trainingDescription(folder, training);
      item.iconPath = icon(STATUS_ICONS[training.status]);
      item.tooltip = new vscode.MarkdownString(
        `**${training.name}** — ${training.status}\n\n${training.targetSr / 1000}k · ${training.modelVersion} · f0 ${training.ifF0 ? training.f0Method : 'off'} · GPU ${training.gpuId}` +
          (training.datasetPath ? `\n\nDataset: \`${training.datasetPath}\`` : ''),
      );
      item.contextValue = folder.readonly ? 'training.readonly' : 'training';
      return item;
    }
    if (node.kind === 'step') {
      const { row, training, folder } = node;
      const item = new vscode.TreeItem(STEP_LABELS[row.step], vscode.TreeItemCollapsibleState.None);
      item.id = `trainings:${training.id}:${row.step}`;
      item.description = row.detail;
      item.tooltip = `${row.step}: ${row.detail}`;
      item.iconPath = icon(STEP_ICONS[row.state]);
      // step.<state> drives the inline actions: run when not run/failed/cancelled, re-run when done.
      item.contextValue = folder.readonly ? `step.readonly.${row.state}` : `step.${row.state}`;
      return item;
    }
    return new vscode.TreeItem('?');
  }
}
