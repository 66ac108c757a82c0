import * as vscode from 'vscode';
import { GENERATOR_LOSS_TAGS } from '../../core/metrics/bestEpoch.ts';
import { latestMetric, metricsSummary, trainingsWithIndex } from '../../core/store/sidebarQueries.ts';
import { trainingLogsDir, type Training } from '../../core/store/trainings.ts';
import type { FolderStore } from '../folderStore.ts';
import type { ViewNode } from './nodes.ts';
import {
  formatDuration,
  STEP_LABELS,
  stepRows,
  stepsDone,
  TRAINING_STATE_LABELS,
  trainingState,
  type StepRow,
  type StepState,
  type TrainingState,
} from './stepStates.ts';
import { TreeProvider } from './treeProvider.ts';

const STATE_ICONS: Record<TrainingState, [string, string | undefined]> = {
  notStarted: ['circle-large-outline', undefined],
  partlyRun: ['pie-chart', 'charts.yellow'],
  queued: ['clock', undefined],
  running: ['sync~spin', 'charts.blue'],
  failed: ['error', 'testing.iconFailed'],
  trained: ['pass-filled', 'testing.iconPassed'],
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
  if (loss) {
    const value = Number.isFinite(loss.value) ? loss.value.toFixed(3) : String(loss.value);
    parts.push(loss.epoch !== null ? vscode.l10n.t('G loss {0} raw @e{1}', value, loss.epoch) : vscode.l10n.t('G loss {0} raw', value));
  }
  return parts.join(' · ');
}

export function stepRowsOf(folder: FolderStore, training: Training): StepRow[] {
  const store = folder.store;
  if (!store) return [];
  const tasks = folder.tasks?.list({ trainingId: training.id, limit: 200 }) ?? [];
  return stepRows(training, tasks, trainingsWithIndex(store).has(training.id));
}

/** "partly run (2 of 5 steps done)": the state's words, with the count while partly run. */
function stateWords(state: TrainingState, steps: readonly StepRow[]): string {
  return `${TRAINING_STATE_LABELS[state]}${state === 'partlyRun' ? ` (${stepsDone(steps)})` : ''}`;
}

/** The words for a training in pickers and tooltips: "partly run (2 of 5 steps done)". */
export function trainingStateText(folder: FolderStore, training: Training): string {
  const steps = stepRowsOf(folder, training);
  return stateWords(trainingState(steps), steps);
}

/** Duration, dates and the parameters a run uses, as Markdown. */
function trainingTooltip(folder: FolderStore, training: Training, state: TrainingState, steps: StepRow[]): vscode.MarkdownString {
  const ran = steps.map((s) => s.task).filter((t): t is NonNullable<typeof t> => t !== undefined && t.startedAt !== null);
  const trainTask = steps.find((s) => s.step === 'train_model')?.task;
  const lines = [
    `**${training.name}** — ${stateWords(state, steps)}`,
    '',
    `| | |`,
    `|---|---|`,
    `| ${vscode.l10n.t('Sample rate · version')} | ${training.targetSr / 1000}k · ${training.modelVersion} |`,
    `| ${vscode.l10n.t('Pitch (f0)')} | ${training.ifF0 ? training.f0Method : vscode.l10n.t('off')} |`,
    `| GPU | ${training.gpuId} |`,
  ];
  const params = training.params as Record<string, unknown>;
  const paramLabels = [
    ['total_epoch', vscode.l10n.t('Epochs')],
    ['batch_size', vscode.l10n.t('Batch size')],
    ['pretrainG', vscode.l10n.t('Pretrained G')],
  ] as const;
  for (const [key, label] of paramLabels) {
    if (params[key] !== undefined && params[key] !== '') lines.push(`| ${label} | ${String(params[key])} |`);
  }
  lines.push(`| ${vscode.l10n.t('Created')} | ${new Date(training.createdAt).toLocaleString()} |`);
  if (ran.length > 0) {
    const started = Math.min(...ran.map((t) => t.startedAt!));
    lines.push(`| ${vscode.l10n.t('First step run')} | ${new Date(started).toLocaleString()} |`);
  }
  if (trainTask?.startedAt && trainTask.finishedAt)
    lines.push(`| ${vscode.l10n.t('Train model took')} | ${formatDuration(trainTask.finishedAt - trainTask.startedAt)} |`);
  lines.push(
    `| ${vscode.l10n.t('Dataset')} | ${training.datasetPath ? `\`${training.datasetPath}\`` : datasetText(folder, training).description} |`,
  );
  if (training.tags.length > 0) lines.push(`| ${vscode.l10n.t('Tags')} | ${training.tags.join(', ')} |`);
  if (training.notes) lines.push('', training.notes);
  const markdown = new vscode.MarkdownString(lines.join('\n'));
  markdown.supportHtml = false;
  return markdown;
}

/**
 * Where a training's audio comes from: its dataset folder, or (imported from an RVC install, which
 * records no dataset) the preprocessed audio its logs folder already holds.
 */
export function datasetText(folder: FolderStore, training: Training): { description: string; tooltip: string } {
  if (training.datasetPath) return { description: training.datasetPath, tooltip: training.datasetPath };
  const logs = folder.store ? trainingLogsDir(folder.store, training) : `logs/${training.name}`;
  if (training.hasPreprocessed) {
    return {
      description: vscode.l10n.t('imported: preprocessed audio in its logs folder'),
      tooltip: vscode.l10n.t(
        'Imported from an RVC install, which does not record the dataset folder: {0} already holds the preprocessed audio (0_gt_wavs, 1_16k_wavs), so the later steps can run. Set Dataset… names the source folder, needed only to preprocess again.',
        logs,
      ),
    };
  }
  return {
    description: vscode.l10n.t('none chosen'),
    tooltip: vscode.l10n.t('No dataset folder yet: Set Dataset… picks the folder of audio files that preprocess reads.'),
  };
}

function datasetRow(folder: FolderStore, training: Training): ViewNode {
  const text = datasetText(folder, training);
  return {
    kind: 'info',
    id: `${training.id}:dataset`,
    label: vscode.l10n.t('Dataset'),
    description: text.description,
    tooltip: text.tooltip,
    icon: 'folder-library',
    contextValue: `dataset${training.datasetPath ? '' : '.none'}${folder.readonly ? '.readonly' : ''}`,
    trainingId: training.id,
    ...(training.datasetPath ? { path: training.datasetPath } : {}),
  };
}

/** Trainings: each training with its five steps, dataset and a metrics summary. */
export class TrainingsView extends TreeProvider {
  readonly view = 'trainings';

  protected rowsOf(folder: FolderStore): ViewNode[] {
    return (folder.trainings?.list() ?? []).map((training): ViewNode => ({ kind: 'training', folder, training }));
  }

  /** The training's row (the one VS Code holds when it has it), for TreeView.reveal. */
  nodeOfTraining(folder: FolderStore, trainingId: string): ViewNode | undefined {
    return this.heldOrFresh(
      (n) => n.kind === 'training' && n.folder === folder && n.training.id === trainingId,
      () => {
        const training = folder.trainings?.list().find((t) => t.id === trainingId);
        return training ? { kind: 'training', folder, training } : undefined;
      },
    );
  }

  protected moreChildren(node: ViewNode): ViewNode[] {
    if (node.kind !== 'training') return [];
    const { folder, training } = node;
    const store = folder.store;
    if (!store) return [];
    const rows: ViewNode[] = stepRowsOf(folder, training).map((row) => ({ kind: 'step', folder, training, row }));
    rows.push(datasetRow(folder, training));
    const summary = metricsSummary(store, training.id);
    rows.push({
      kind: 'info',
      id: `${training.id}:metrics`,
      label: vscode.l10n.t('Metrics'),
      description:
        summary.points === 0
          ? vscode.l10n.t('none yet')
          : summary.lastEpoch !== null
            ? vscode.l10n.t('{0} series · {1} points · epoch {2}', summary.series, summary.points, summary.lastEpoch)
            : vscode.l10n.t('{0} series · {1} points', summary.series, summary.points),
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
      const steps = stepRowsOf(folder, training);
      const state = trainingState(steps);
      item.description = `${stateWords(state, steps)} · ${trainingDescription(folder, training)}`;
      item.iconPath = icon(STATE_ICONS[state]);
      item.tooltip = trainingTooltip(folder, training, state, steps);
      // training.<state>: Run Full Pipeline shows only where there is something left to run.
      item.contextValue = `training.${state}${folder.readonly ? '.readonly' : ''}`;
      return item;
    }
    if (node.kind === 'step') {
      const { row, training, folder } = node;
      const item = new vscode.TreeItem(STEP_LABELS[row.step], vscode.TreeItemCollapsibleState.None);
      item.id = `trainings:${training.id}:${row.step}`;
      item.description = row.detail;
      item.tooltip = `${STEP_LABELS[row.step]} (${row.step}): ${row.detail}`;
      item.iconPath = icon(STEP_ICONS[row.state]);
      // step.<state> drives the inline actions: run when not run/failed/cancelled, re-run when done.
      item.contextValue = folder.readonly ? `step.readonly.${row.state}` : `step.${row.state}`;
      return item;
    }
    return new vscode.TreeItem('?');
  }
}
