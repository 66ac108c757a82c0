import * as vscode from 'vscode';
import { errorMessage } from '../core/util/errors.ts';

let log: vscode.LogOutputChannel | undefined;

/**
 * VS Code does not tell the user when an extension fails to activate, so we report it ourselves.
 */
export async function activateExtension(context: vscode.ExtensionContext): Promise<void> {
  log = vscode.window.createOutputChannel('RVC Studio', { log: true });
  context.subscriptions.push(log);
  try {
    log.info(`RVC Studio ${String(context.extension.packageJSON.version)} activating`);
  } catch (error) {
    log.error(errorMessage(error));
    void vscode.window.showErrorMessage(`RVC Studio failed to start: ${errorMessage(error)}`);
    throw error;
  }
}

export async function deactivateExtension(): Promise<void> {
  log = undefined;
}
