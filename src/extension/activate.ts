import * as vscode from 'vscode';
import { errorMessage } from '../core/util/errors.ts';
import { syncArtifactsOnTaskEnd } from './artifactSync.ts';
import { registerCommands } from './commands/index.ts';
import { TASK_LOG_SCHEME, TaskLogDocuments } from './commands/taskCommands.ts';
import { Ctx, UNTRUSTED_MESSAGE } from './ctx.ts';
import { registerInferencePanel } from './panels/inferencePanels.ts';
import { registerMetricsPanels } from './panels/metricsPanels.ts';
import { TaskStatusBar } from './statusBar.ts';
import { TaskMonitor } from './taskMonitor.ts';
import { notifyTaskEnds } from './taskNotifications.ts';
import { TaskTerminals } from './taskTerminals.ts';

/** What activate() returns: the parts tests (and other extensions) may look at. */
export interface RvcStudioApi {
  ctx: Ctx;
  monitor: TaskMonitor;
  statusBar: TaskStatusBar;
  terminals: TaskTerminals;
  activationMs: number;
}

let current: Ctx | undefined;

/**
 * VS Code does not tell the user when an extension fails to activate, so we report it ourselves.
 */
export async function activateExtension(context: vscode.ExtensionContext): Promise<RvcStudioApi> {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('RVC Studio', { log: true });
  context.subscriptions.push(log);
  try {
    const ctx = new Ctx(context, log);
    current = ctx;
    context.subscriptions.push(ctx);
    ctx.metricsPanels = ctx.register(
      registerMetricsPanels(context, {
        store: () => {
          const folder = ctx.metricsFolder ?? ctx.stores.open()[0];
          if (!folder?.store) throw new Error('no RVC Studio store is open');
          return folder.store;
        },
        log,
      }),
    );
    ctx.inferencePanel = ctx.register(
      registerInferencePanel(context, {
        target: () => {
          const folder = ctx.inferenceFolder ?? ctx.stores.open()[0];
          if (!folder?.store) throw new Error('no RVC Studio store is open');
          const settings = folder.config.settings();
          return { store: folder.store, rvcRoot: settings['rvc.root'], maxSeconds: settings['inference.maxSeconds'] };
        },
        log,
      }),
    );
    registerCommands(ctx);
    ctx.register(vscode.workspace.registerTextDocumentContentProvider(TASK_LOG_SCHEME, new TaskLogDocuments(ctx)));
    const monitor = ctx.register(new TaskMonitor(ctx.stores));
    const terminals = ctx.register(new TaskTerminals(monitor));
    const statusBar = ctx.register(new TaskStatusBar(monitor));
    ctx.register(syncArtifactsOnTaskEnd(ctx, monitor));
    ctx.register(notifyTaskEnds(ctx, monitor));
    monitor.look();
    if (!ctx.trusted) log.info(UNTRUSTED_MESSAGE);
    const activationMs = performance.now() - started;
    log.info(`RVC Studio ${String(context.extension.packageJSON.version)} active in ${activationMs.toFixed(0)} ms: ${ctx.stores.all().length} folder(s), ${ctx.stores.open().length} store(s)${ctx.trusted ? '' : ', untrusted (read-only)'}`);
    for (const folder of ctx.stores.all()) if (folder.error) log.warn(`${folder.name}: ${folder.error}`);
    return { ctx, monitor, statusBar, terminals, activationMs };
  } catch (error) {
    log.error(errorMessage(error));
    void vscode.window.showErrorMessage(`RVC Studio failed to start: ${errorMessage(error)}`);
    throw error;
  }
}

export async function deactivateExtension(): Promise<void> {
  current?.dispose();
  current = undefined;
}
