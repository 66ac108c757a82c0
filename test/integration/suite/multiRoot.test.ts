import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, rows, until } from './host.ts';

export function multiRootTests(): void {
  describe('multi-root workspace', () => {
    it('opens one store per folder and shows the folders in the views', async () => {
      const { ctx } = await api();
      // The workbench may start the tests before it has read the .code-workspace file; the folders
      // then arrive through onDidChangeWorkspaceFolders, which the stores follow.
      await until('the two workspace folders', () => vscode.workspace.workspaceFolders?.length === 2, 15_000);
      const describe = (): string =>
        ctx.stores
          .all()
          .map((f) => `${f.name}: ${f.error ?? (f.store ? 'open' : 'no store')}`)
          .join('; ');
      await until('both stores to open', () => ctx.stores.open().length === 2, 10_000).catch((error: Error) => {
        throw new Error(`${error.message} (${describe()})`);
      });
      const folders = await rows(ctx.trainingsView);
      assert.deepEqual(
        folders.map((f) => f.label),
        ['multi-a', 'multi-b'],
      );
      const a = await rows(ctx.trainingsView, folders[0]!.node);
      const b = await rows(ctx.trainingsView, folders[1]!.node);
      assert.deepEqual(
        a.map((r) => r.label),
        ['voice-a'],
      );
      assert.deepEqual(
        b.map((r) => r.label),
        ['voice-b'],
      );
      const taskFolders = await rows(ctx.tasksView);
      assert.deepEqual(
        taskFolders.map((f) => f.label),
        ['multi-a', 'multi-b'],
      );
    });

    it("a command with a folder argument works on that folder's store only", async () => {
      const { ctx } = await api();
      const [a, b] = ctx.stores.open();
      const report = await vscode.commands.executeCommand('rvcStudio.checkDatabase', { folder: b!.dir });
      assert.ok(report);
      assert.equal(a!.trainings!.findByName('voice-b'), undefined);
      assert.ok(b!.trainings!.findByName('voice-b'));
    });
  });
}
