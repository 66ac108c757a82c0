import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, prepared, rows } from './host.ts';

export function untrustedTests(): void {
  describe('untrusted workspace', () => {
    it('activates read-only: trainings are shown, no runner runs', async () => {
      assert.equal(vscode.workspace.isTrusted, false);
      const { ctx } = await api();
      const [folder] = ctx.stores.all();
      assert.ok(folder?.store, folder?.error);
      assert.equal(folder.readonly, true);
      assert.equal(folder.runner, undefined);
      const trainings = await rows(ctx.trainingsView);
      assert.deepEqual(
        trainings.map((r) => `${r.label}:${r.contextValue}`),
        ['untrusted-voice:training.notStarted.readonly'],
      );
      const steps = await rows(ctx.trainingsView, trainings[0]!.node);
      assert.ok(
        steps.slice(0, 5).every((s) => s.contextValue.startsWith('step.readonly.')),
        'no run actions on read-only steps',
      );
    });

    it("ignores the workspace's own RVC root and Python settings", async () => {
      const { ctx } = await api();
      const config = ctx.stores.all()[0]!.config;
      assert.notEqual(config.rvcRoot, prepared().rvcRoot);
      assert.notEqual(config.pythonPath, prepared().python);
    });

    it('launches nothing: run, create, import and retry refuse, and no task row is written', async () => {
      const { ctx } = await api();
      const folder = ctx.stores.all()[0]!;
      assert.equal(await vscode.commands.executeCommand('rvcStudio.runFullPipeline', { training: 'untrusted-voice' }), undefined);
      assert.equal(
        await vscode.commands.executeCommand('rvcStudio.runStep', { training: 'untrusted-voice', step: 'preprocess' }),
        undefined,
      );
      assert.equal(
        await vscode.commands.executeCommand('rvcStudio.createTraining', {
          name: 'sneaky',
          datasetPath: prepared().dataset,
          sampleRate: 40000,
          version: 'v2',
          f0Method: 'pm',
          gpu: '0',
        }),
        undefined,
      );
      assert.equal(await vscode.commands.executeCommand('rvcStudio.importRvcInstall', { root: prepared().rvcRoot }), undefined);
      assert.deepEqual(folder.tasks!.list(), []);
      assert.deepEqual(
        folder.trainings!.list().map((t) => t.name),
        ['untrusted-voice'],
      );
    });
  });
}
