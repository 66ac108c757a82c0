import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'rvc-studio.rvc-studio';

export function activationTests(): void {
  describe('activation', () => {
    it('activates in a workspace that holds an RVC Studio store', async () => {
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, `${EXTENSION_ID} is not loaded`);
      await extension.activate();
      assert.equal(extension.isActive, true);
    });
  });
}
