import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, metric, until } from './host.ts';

export function reloadTests(): void {
  describe('after a window reload', () => {
    it('the task still running gets its terminal and the status bar back', async () => {
      const { ctx, statusBar, terminals, activationMs } = await api();
      metric('activation-with-running-task-ms', activationMs, 'ms');
      const running = ctx.stores.open()[0]!.tasks!.running();
      assert.equal(running.length, 1, 'the trusted phase left one task running');
      const task = running[0]!;
      const terminal = await until('the terminal', () => terminals.terminalOf(task.id));
      assert.equal(terminal.name, 'RVC: demo-double · train_model');
      assert.ok(vscode.window.terminals.some((t) => t.name === 'RVC: demo-double · train_model'));
      await until('the status bar text', () => statusBar.item.text.startsWith('$(sync~spin) demo-double · Train model'));
    });

    it('the runner re-attached: the task keeps reporting progress', async () => {
      const { ctx } = await api();
      const repo = ctx.stores.open()[0]!.tasks!;
      const task = repo.running()[0]!;
      const before = task.updatedAt;
      await until('a progress update', () => repo.get(task.id).updatedAt > before, 20_000);
      assert.equal(repo.get(task.id).status, 'running');
    });
  });
}
