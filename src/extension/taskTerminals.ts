import * as vscode from 'vscode';
import { taskFiles } from '../core/runner/processes.ts';
import type { MonitoredTask, TaskMonitor } from './taskMonitor.ts';
import { LogTailPty } from './taskTerminal.ts';

export function terminalName(trainingName: string, step: string): string {
  return `RVC: ${trainingName} · ${step}`;
}

/**
 * One terminal per running task, "RVC: {training} · {step}", streaming its log. Created when a
 * task starts or, after a window reload, for every task still running, so the output comes back.
 */
export class TaskTerminals implements vscode.Disposable {
  private readonly open = new Map<string, { terminal: vscode.Terminal; pty: LogTailPty }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(monitor: TaskMonitor) {
    this.disposables.push(
      monitor.onDidStart((entry) => this.show(entry)),
      monitor.onDidEnd((entry) => this.end(entry)),
      vscode.window.onDidCloseTerminal((terminal) => {
        for (const [id, entry] of this.open) if (entry.terminal === terminal) this.open.delete(id);
      }),
    );
  }

  terminalOf(taskId: string): vscode.Terminal | undefined {
    return this.open.get(taskId)?.terminal;
  }

  private show({ folder, task, trainingName }: MonitoredTask): void {
    if (this.open.has(task.id) || !folder.store) return;
    const file = task.logPath ?? taskFiles(folder.store, task.id).log;
    const pty = new LogTailPty(file);
    const terminal = vscode.window.createTerminal({
      name: terminalName(trainingName, task.stepType),
      pty,
      iconPath: new vscode.ThemeIcon('pulse'),
      isTransient: true,
    });
    this.open.set(task.id, { terminal, pty });
  }

  private end({ task }: MonitoredTask): void {
    const entry = this.open.get(task.id);
    if (!entry) return;
    entry.pty.end(`${task.stepType} ${task.status}${task.errorMsg ? `: ${task.errorMsg}` : ''}`);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const { pty } of this.open.values()) pty.close();
    this.open.clear();
  }
}
