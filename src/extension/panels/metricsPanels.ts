import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Store } from '../../core/store/store.ts';
import { errorMessage, isUserError } from '../../core/util/errors.ts';
import {
  DEFAULT_PANEL_SETTINGS,
  PERSISTED_STATE,
  parseSettings,
  type ExportMessage,
  type PanelKind,
  type PanelSettings,
  type PersistedPanelState,
} from '../../protocol/metricsPanel.ts';
import { check } from '../../protocol/schema.ts';
import { MetricsPanelController, type MetricsPanelEnv } from './metricsPanelController.ts';
import { hostPanel, postTo, webviewRootOf } from './panelHost.ts';
import { storeMetricsSource } from './metricsSource.ts';

export const METRICS_VIEW_TYPE = 'rvcStudio.metrics';
export const METRICS_COMPARE_VIEW_TYPE = 'rvcStudio.metricsCompare';
const SETTINGS_KEY = 'rvcStudio.metricsPanel.settings';
const RESTORE_ATTEMPTS = 40;
const RESTORE_RETRY_MS = 250;

export interface MetricsPanelDeps {
  /** The open workspace store; panels are only opened once there is one. */
  store(): Store;
  log: vscode.LogOutputChannel;
}

export interface MetricsPanels extends vscode.Disposable {
  /** Shows the panel of one training (one per training: a second call brings it forward). */
  openMetricsPanel(trainingId: string): void;
  /** Overlays several trainings in one panel; the same set reuses its panel. */
  openComparePanel(trainingIds: string[]): void;
}

/** One panel's controller: the store's metrics, live events, and VS Code's explorer, save dialog and workspace state. */
function controllerFor(context: vscode.ExtensionContext, deps: MetricsPanelDeps, panel: vscode.WebviewPanel, state: PersistedPanelState) {
  const store = deps.store();
  const source = storeMetricsSource(store);
  // Refuses a training that no longer exists (UserError) before the panel is wired up.
  source.runs(state.trainingIds);
  const env: MetricsPanelEnv = {
    source,
    events: store.events,
    workspaceDir: store.workspaceDir,
    post: postTo(panel),
    log: (level, message) => deps.log[level](message),
    reveal: async (file) => {
      await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(file));
    },
    saveExport: (message) => saveExport(message, store.workspaceDir),
    settingsChanged: (next) => void context.workspaceState.update(SETTINGS_KEY, next),
  };
  return new MetricsPanelController(env, state.kind, state.trainingIds, state.settings);
}

/**
 * After a window reload the panel can come back before the workspace store is open: `attach` is
 * retried a while, except for a UserError (the training is gone), then the panel is closed.
 */
async function attachWithRetry(
  panel: vscode.WebviewPanel,
  restored: PersistedPanelState,
  attach: () => void,
  log: vscode.LogOutputChannel,
) {
  for (let attempt = 0; ; attempt++) {
    try {
      attach();
      return;
    } catch (error) {
      if (attempt >= RESTORE_ATTEMPTS || isUserError(error)) {
        log.warn(`metrics panel: could not restore ${restored.trainingIds.join(', ')}: ${errorMessage(error)}`);
        panel.dispose();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, RESTORE_RETRY_MS));
    }
  }
}

/**
 * Registers the metrics webview panels: serializers so they come back after a window reload with
 * their settings, and the functions the command table calls to open them.
 */
export function registerMetricsPanels(context: vscode.ExtensionContext, deps: MetricsPanelDeps): MetricsPanels {
  const open = new Map<string, vscode.WebviewPanel>();
  const webviewRoot = webviewRootOf(context);
  const lastSettings = (): PanelSettings => {
    const stored = parseSettings(context.workspaceState.get(SETTINGS_KEY));
    return typeof stored === 'string' ? { ...DEFAULT_PANEL_SETTINGS } : stored;
  };
  const keyOf = (kind: PanelKind, ids: string[]) => `${kind}:${[...ids].sort().join(',')}`;

  const attach = (panel: vscode.WebviewPanel, state: PersistedPanelState) => {
    const key = keyOf(state.kind, state.trainingIds);
    const controller = controllerFor(context, deps, panel, state);
    open.set(key, panel);
    hostPanel({
      panel,
      webviewRoot,
      bundle: 'metrics',
      extraRoots: [vscode.Uri.joinPath(context.extensionUri, 'media')],
      controller,
      onDispose: () => {
        if (open.get(key) === panel) open.delete(key);
      },
    });
  };

  const create = (kind: PanelKind, trainingIds: string[]) => {
    const existing = open.get(keyOf(kind, trainingIds));
    if (existing) return existing.reveal();
    const names = storeMetricsSource(deps.store())
      .runs(trainingIds)
      .map((r) => r.name);
    const title = kind === 'training' ? vscode.l10n.t('Metrics: {0}', names[0] ?? '') : vscode.l10n.t('Compare: {0}', names.join(', '));
    const viewType = kind === 'training' ? METRICS_VIEW_TYPE : METRICS_COMPARE_VIEW_TYPE;
    const panel = vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [webviewRoot],
    });
    attach(panel, { kind, trainingIds, settings: lastSettings() });
  };

  const serializer = (kind: PanelKind): vscode.WebviewPanelSerializer => ({
    deserializeWebviewPanel: async (panel, state: unknown) => {
      const restored = restoredState(state, kind);
      if (!restored) {
        deps.log.warn(`metrics panel: could not restore a ${kind} panel from its saved state; closing it`);
        panel.dispose();
        return;
      }
      await attachWithRetry(panel, restored, () => attach(panel, restored), deps.log);
    },
  });
  const serializers = [
    vscode.window.registerWebviewPanelSerializer(METRICS_VIEW_TYPE, serializer('training')),
    vscode.window.registerWebviewPanelSerializer(METRICS_COMPARE_VIEW_TYPE, serializer('compare')),
  ];

  // The caller owns the returned object (it disposes the panels and serializers).
  return {
    openMetricsPanel: (trainingId) => create('training', [trainingId]),
    openComparePanel: (trainingIds) => create('compare', trainingIds),
    dispose: () => {
      for (const panel of open.values()) panel.dispose();
      serializers.forEach((d) => d.dispose());
    },
  };
}

/** The webview's saved state is untrusted too: checked before a panel is rebuilt from it. */
function restoredState(state: unknown, kind: PanelKind): PersistedPanelState | undefined {
  const read = check(PERSISTED_STATE, state);
  return read.ok ? { kind, ...read.value } : undefined;
}

async function saveExport(message: ExportMessage, workspaceDir: string): Promise<void> {
  const target = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(path.join(workspaceDir, message.suggestedName)),
    filters: message.format === 'csv' ? { CSV: ['csv'] } : { PNG: ['png'] },
  });
  if (!target) return;
  const bytes = message.format === 'csv' ? Buffer.from(message.data, 'utf8') : Buffer.from(message.data, 'base64');
  await vscode.workspace.fs.writeFile(target, bytes);
  void vscode.window.showInformationMessage(vscode.l10n.t('Saved {0}', path.basename(target.fsPath)));
}
