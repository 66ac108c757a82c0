import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RvcStudioApi } from '../../../src/extension/activate.ts';
import type { ViewNode } from '../../../src/extension/views/nodes.ts';

export const EXTENSION_ID = 'rvc-studio.rvc-studio';

export interface PreparedContext {
  root: string;
  rvcRoot: string;
  python: string;
  dataset: string;
  fixtureCopy: string | null;
  trusted: string;
  untrusted: string;
  multiA: string;
  multiB: string;
  /** The Slurm phase's folder and training; `rpc`: where the outer runner answers its requests. */
  slurm: { folder: string; training: string; partition: string; rpc: string };
}

/** prepareWorkspaces.ts wrote context.json beside the workspace folders. */
export function prepared(): PreparedContext {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the test window has no folder');
  return JSON.parse(fs.readFileSync(path.join(path.dirname(folder.uri.fsPath), 'context.json'), 'utf8')) as PreparedContext;
}

export async function api(): Promise<RvcStudioApi> {
  const extension = vscode.extensions.getExtension<RvcStudioApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not loaded`);
  return extension.isActive ? extension.exports : await extension.activate();
}

/** Waits for a condition the product reaches asynchronously (a task ending, a view refreshing). */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The label and description a tree row shows, as VS Code would render them; read without touching
 * what the provider knows VS Code holds.
 */
export async function rows(
  provider: { rowsFor(parent?: ViewNode): ViewNode[]; treeItemFor(node: ViewNode): vscode.TreeItem },
  parent?: ViewNode,
): Promise<{ node: ViewNode; label: string; description: string; contextValue: string }[]> {
  const children = provider.rowsFor(parent);
  return Promise.all(
    children.map(async (node) => {
      const item = provider.treeItemFor(node);
      const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
      return {
        node,
        label,
        description: typeof item.description === 'string' ? item.description : '',
        contextValue: item.contextValue ?? '',
      };
    }),
  );
}

/** A line the outer runner copies into results (measurements for the closing note). */
export function metric(name: string, value: number, unit: string): void {
  console.log(`metric ${name} ${value.toFixed(1)} ${unit}`);
}
