import * as vscode from 'vscode';
import { VIEW_IDS } from './ctx.ts';
import type { MonitoredTask, TaskMonitor } from './taskMonitor.ts';
import { statusText } from './statusText.ts';
import { progressText, STEP_LABELS } from './views/stepStates.ts';

/** The running tasks in the status bar; a click focuses the Tasks view; hidden when nothing runs. */
export class TaskStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly subscription: vscode.Disposable;

  constructor(monitor: TaskMonitor) {
    this.item = vscode.window.createStatusBarItem('rvcStudio.tasks', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'RVC Studio Tasks';
    this.item.command = `${VIEW_IDS.tasks}.focus`;
    this.subscription = monitor.onDidChange((running) => this.update(running));
    this.update(monitor.running);
  }

  private update(running: readonly MonitoredTask[]): void {
    const text = statusText(running);
    if (!text) {
      this.item.hide();
      return;
    }
    this.item.text = text;
    this.item.tooltip =
      running.map((r) => `${r.trainingName} · ${STEP_LABELS[r.task.stepType]} ${progressText(r.task)}`).join('\n') +
      '\n' +
      vscode.l10n.t('Click to show the Tasks view.');
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
