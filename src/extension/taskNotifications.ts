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
      void vscode.window.showInformationMessage(`RVC Studio: ${label} finished.`, 'Show Models', 'Show Metrics').then((choice) => {
        if (choice === 'Show Models') void vscode.commands.executeCommand('rvcStudio.showModels');
        if (choice === 'Show Metrics') void vscode.commands.executeCommand('rvcStudio.showMetrics', { folder: entry.folder.dir, training: trainingName });
      });
    } else if (task.status === 'failed') {
      ctx.log.warn(`${label} failed: ${task.errorMsg ?? 'no error recorded'}`);
      void vscode.window.showErrorMessage(`RVC Studio: ${label} failed: ${task.errorMsg ?? 'see the log'}`, 'Open Log', 'Retry').then((choice) => {
        if (choice === 'Open Log') void vscode.commands.executeCommand('rvcStudio.openTaskLog', { taskId: task.id });
        if (choice === 'Retry') void vscode.commands.executeCommand('rvcStudio.retryTask', { taskId: task.id });
      });
    } else {
      ctx.log.info(`${label} ${task.status}`);
    }
  });
}
