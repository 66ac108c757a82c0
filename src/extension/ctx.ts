import * as vscode from 'vscode';
import { errorMessage, isUserError } from '../core/util/errors.ts';
import { logRenamedSettingsTo } from './config.ts';
import { localizedError } from './l10n.ts';
import type { FolderStore } from './folderStore.ts';
import { FolderStores } from './folderStores.ts';
import type { InferencePanel } from './panels/inferencePanels.ts';
import type { MetricsPanels } from './panels/metricsPanels.ts';
import type { ViewNode } from './views/nodes.ts';
import { ModelsView } from './views/modelsView.ts';
import { TasksView } from './views/tasksView.ts';
import { TrainingsView } from './views/trainingsView.ts';
import { VoiceDropController } from './views/voiceDrop.ts';

export const VIEW_IDS = { trainings: 'rvcStudio.trainings', tasks: 'rvcStudio.tasks', models: 'rvcStudio.models' } as const;

export const UNTRUSTED_MESSAGE =
  'This workspace is not trusted, so RVC Studio shows its trainings read-only and launches nothing. Trust the workspace (Manage Workspace Trust) to create trainings or run steps.';

/** UNTRUSTED_MESSAGE in the user's language (the log keeps the English). */
export function untrustedMessage(): string {
  return vscode.l10n.t(
    'This workspace is not trusted, so RVC Studio shows its trainings read-only and launches nothing. Trust the workspace (Manage Workspace Trust) to create trainings or run steps.',
  );
}

/**
 * Everything the extension's parts share: the log channel, the per-folder stores and the views.
 * It owns their disposables, so deactivation (or a test) tears all of it down in one place.
 */
export class Ctx implements vscode.Disposable {
  readonly extension: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly stores: FolderStores;
  readonly trainingsView: TrainingsView;
  readonly tasksView: TasksView;
  readonly modelsView: ModelsView;
  readonly trees: { trainings: vscode.TreeView<ViewNode>; tasks: vscode.TreeView<unknown>; models: vscode.TreeView<unknown> };
  private readonly disposables: vscode.Disposable[] = [];
  metricsPanels: MetricsPanels | undefined;
  /** The metrics panels read one store; in a multi-root workspace it is the folder last shown. */
  metricsFolder: FolderStore | undefined;
  inferencePanel: InferencePanel | undefined;
  /** The folder whose store records the inference panel's conversions. */
  inferenceFolder: FolderStore | undefined;

  constructor(extension: vscode.ExtensionContext, log: vscode.LogOutputChannel) {
    this.extension = extension;
    this.log = log;
    logRenamedSettingsTo((line) => log.info(line));
    this.stores = this.register(new FolderStores());
    this.trainingsView = this.register(new TrainingsView(this.stores));
    this.tasksView = this.register(new TasksView(this.stores));
    this.modelsView = this.register(new ModelsView(this.stores));
    this.trees = {
      trainings: this.register(
        vscode.window.createTreeView(VIEW_IDS.trainings, { treeDataProvider: this.trainingsView, showCollapseAll: true }),
      ),
      tasks: this.register(vscode.window.createTreeView(VIEW_IDS.tasks, { treeDataProvider: this.tasksView })),
      // Voice zips, .pth files and folders dropped on it are added as voices.
      models: this.register(
        vscode.window.createTreeView(VIEW_IDS.models, {
          treeDataProvider: this.modelsView,
          showCollapseAll: true,
          dragAndDropController: new VoiceDropController(),
        }),
      ),
    };
    this.updateContext();
    this.register(this.stores.onDidChange(() => this.updateContext()));
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.updateContext()));
  }

  register<T extends vscode.Disposable>(disposable: T): T {
    this.disposables.push(disposable);
    return disposable;
  }

  get trusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  /** Commands that write or launch call this first. */
  requireTrust(): boolean {
    if (this.trusted) return true;
    void vscode.window.showWarningMessage(untrustedMessage(), vscode.l10n.t('Manage Workspace Trust')).then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return false;
  }

  /** Reports a command's failure: a UserError's one line as is, anything else with a pointer to the log. */
  reportError(what: string, error: unknown): void {
    if (isUserError(error)) {
      this.log.warn(`${what}: ${error.message}`);
      void vscode.window.showErrorMessage(localizedError(error));
      return;
    }
    this.log.error(`${what} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void vscode.window
      .showErrorMessage(vscode.l10n.t('RVC Studio: {0} failed: {1}', what, errorMessage(error)), vscode.l10n.t('Show Log'))
      .then((choice) => {
        if (choice) this.log.show();
      });
  }

  /** Shows a training's row in the Trainings view, selected (after Create Training). */
  async revealTraining(folder: FolderStore, trainingId: string): Promise<void> {
    const node = this.trainingsView.nodeOfTraining(folder, trainingId);
    if (!node) return;
    try {
      await this.trees.trainings.reveal(node, { select: true, focus: false, expand: false });
    } catch (error) {
      // The view may be collapsed or hidden; the training is created all the same.
      this.log.warn(`reveal ${trainingId}: ${errorMessage(error)}`);
    }
  }

  openMetrics(folder: FolderStore, trainingId: string): void {
    if (!this.metricsPanels) throw new Error('the metrics panels are not registered');
    this.metricsFolder = folder;
    this.metricsPanels.openMetricsPanel(trainingId);
  }

  openMetricsComparison(folder: FolderStore, trainingIds: string[]): void {
    if (!this.metricsPanels) throw new Error('the metrics panels are not registered');
    this.metricsFolder = folder;
    this.metricsPanels.openComparePanel(trainingIds);
  }

  openInference(folder: FolderStore, modelPath?: string): void {
    if (!this.inferencePanel) throw new Error('the inference panel is not registered');
    this.inferenceFolder = folder;
    this.inferencePanel.openInferencePanel(modelPath);
  }

  /** Whether any open store holds a training (the context key rvcStudio:hasTrainings). */
  get hasTrainings(): boolean {
    return this.stores.open().some((f) => (f.trainings?.list().length ?? 0) > 0);
  }

  private updateContext(): void {
    void vscode.commands.executeCommand('setContext', 'rvcStudio:trusted', this.trusted);
    void vscode.commands.executeCommand('setContext', 'rvcStudio:hasTrainings', this.hasTrainings);
    void vscode.commands.executeCommand('setContext', 'rvcStudio:multiRoot', this.stores.isMultiRoot);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
