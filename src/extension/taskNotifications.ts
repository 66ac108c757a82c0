import * as vscode from 'vscode';
import type { Ctx } from './ctx.ts';
import type { MonitoredTask, TaskMonitor } from './taskMonitor.ts';

/** When a task ends: success offers the models and metrics; failure gives its error and Open Log / Retry. */
export function notifyTaskEnds(ctx: Ctx, monitor: TaskMonitor): vscode.Disposable {
  return monitor.onDidEnd((entry: MonitoredTask) => {
    const { task, trainingName } = entry;
    const label = `${trainingName} · ${task.stepType}`;
    if (task.status === 'success') {
      ctx.log.info(`${label} finished`);
      const [showModels, showMetrics] = [vscode.l10n.t('Show Models'), vscode.l10n.t('Show Metrics')];
      void vscode.window
        .showInformationMessage(vscode.l10n.t('RVC Studio: {0} finished.', label), showModels, showMetrics)
        .then((choice) => {
          if (choice === showModels) void vscode.commands.executeCommand('rvcStudio.showModels');
          if (choice === showMetrics)
            void vscode.commands.executeCommand('rvcStudio.showMetrics', { folder: entry.folder.dir, training: trainingName });
        });
    } else if (task.status === 'failed') {
      ctx.log.warn(`${label} failed: ${task.errorMsg ?? 'no error recorded'}`);
      const [openLog, retry] = [vscode.l10n.t('Open Log'), vscode.l10n.t('Retry')];
      const message = task.errorMsg
        ? vscode.l10n.t('RVC Studio: {0} failed: {1}', label, task.errorMsg)
        : vscode.l10n.t('RVC Studio: {0} failed: see the log.', label);
      void vscode.window.showErrorMessage(message, openLog, retry).then((choice) => {
        if (choice === openLog) void vscode.commands.executeCommand('rvcStudio.openTaskLog', { taskId: task.id });
        if (choice === retry) void vscode.commands.executeCommand('rvcStudio.retryTask', { taskId: task.id });
      });
    } else {
      ctx.log.info(`${label} ${task.status}`);
    }
  });
}
