import * as vscode from 'vscode';
import { errorMessage } from '../core/util/errors.ts';
import { syncArtifactsOnTaskEnd } from './artifactSync.ts';
import { registerCommands } from './commands/index.ts';
import { TASK_LOG_SCHEME, TaskLogDocuments } from './commands/taskCommands.ts';
import { auxModelAccess } from './commands/voiceCommands.ts';
import { Ctx, UNTRUSTED_MESSAGE } from './ctx.ts';
import { localizedError, useTranslator } from './l10n.ts';
import { registerInferencePanel } from './panels/inferencePanels.ts';
import { registerMetricsPanels } from './panels/metricsPanels.ts';
import { TaskStatusBar } from './statusBar.ts';
import { TaskMonitor } from './taskMonitor.ts';
import { notifyTaskEnds } from './taskNotifications.ts';
import { TaskTerminals } from './taskTerminals.ts';
import { openWalkthroughOnce, WALKTHROUGH_SHOWN_KEY } from './walkthrough.ts';

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
  // The modules that also run in plain Node translate through this (l10n.ts); here it is VS Code's.
  // vscode.l10n.t is a plain function of the API object (no `this`), so it is handed over as is.
  useTranslator(vscode.l10n.t);
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
          return {
            store: folder.store,
            rvcRoot: settings['rvc.root'],
            maxSeconds: settings['inference.maxSeconds'],
            aux: auxModelAccess(ctx, folder),
          };
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
    // Not under the in-host suites (ExtensionMode.Test): they own the editor area. The walkthrough check
    // in test/integration/walkthroughChecks.mjs runs the extension in development mode instead.
    if (context.extensionMode !== vscode.ExtensionMode.Test) {
      // Settings Sync carries the flag, so a second machine does not show it again.
      context.globalState.setKeysForSync([WALKTHROUGH_SHOWN_KEY]);
      void openWalkthroughOnce({
        globalState: context.globalState,
        extensionId: context.extension.id,
        hasTrainings: () => ctx.hasTrainings,
        open: (fullId) => vscode.commands.executeCommand('workbench.action.openWalkthrough', fullId, false),
      }).then(
        (opened) => {
          if (opened) log.info('opened the Get Started walkthrough (first activation without trainings)');
        },
        (error: unknown) => log.warn(`could not open the walkthrough: ${errorMessage(error)}`),
      );
    }
    const activationMs = performance.now() - started;
    log.info(
      `RVC Studio ${String(context.extension.packageJSON.version)} active in ${activationMs.toFixed(0)} ms: ${ctx.stores.all().length} folder(s), ${ctx.stores.open().length} store(s)${ctx.trusted ? '' : ', untrusted (read-only)'}`,
    );
    for (const folder of ctx.stores.all()) if (folder.error) log.warn(`${folder.name}: ${folder.error}`);
    return { ctx, monitor, statusBar, terminals, activationMs };
  } catch (error) {
    log.error(errorMessage(error));
    void vscode.window.showErrorMessage(vscode.l10n.t('RVC Studio failed to start: {0}', localizedError(error)));
    throw error;
  }
}

export async function deactivateExtension(): Promise<void> {
  current?.dispose();
  current = undefined;
}
