import type * as vscode from 'vscode';
import { activateExtension, deactivateExtension, type RvcStudioApi } from './extension/activate.ts';

export function activate(context: vscode.ExtensionContext): Promise<RvcStudioApi> {
  return activateExtension(context);
}

export function deactivate(): Promise<void> {
  return deactivateExtension();
}
