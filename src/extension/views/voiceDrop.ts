import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { COMMAND_PREFIX } from '../commands/commandIds.ts';
import type { ViewNode } from './nodes.ts';

/** What a dropped item may be: a voice zip, a .pth, a folder holding them, or an http(s) URL to one. */
const VOICE_FILE = /\.(zip|pth)$/i;

/** The sources in a drop: `text/uri-list` (the explorer, the OS, a browser's link) and `files` (the OS, in a browser workbench). */
export async function droppedSources(dataTransfer: vscode.DataTransfer): Promise<string[]> {
  const sources: string[] = [];
  const uriList = await dataTransfer.get('text/uri-list')?.asString();
  for (const line of (uriList ?? '').split(/\r?\n/)) {
    const text = line.trim();
    // RFC 2483: lines starting with # are comments.
    if (!text || text.startsWith('#')) continue;
    let uri: vscode.Uri;
    try {
      uri = vscode.Uri.parse(text, true);
    } catch {
      continue;
    }
    if (uri.scheme === 'file') sources.push(uri.fsPath);
    else if (uri.scheme === 'http' || uri.scheme === 'https') sources.push(text);
  }
  const file = dataTransfer.get('files')?.asFile();
  if (file?.uri?.scheme === 'file' && !sources.includes(file.uri.fsPath)) sources.push(file.uri.fsPath);
  return sources.filter((source) => /^https?:\/\//i.test(source) || VOICE_FILE.test(source) || isFolder(source));
}

function isFolder(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Drop onto the Models view: each dropped zip, .pth, folder or URL goes through "Add Voice Model…"
 * (the same code path as its file picker, its errors reported the same way), into the folder of
 * the row it was dropped on in a multi-root workspace.
 */
export class VoiceDropController implements vscode.TreeDragAndDropController<ViewNode> {
  readonly dropMimeTypes = ['text/uri-list', 'files'];
  readonly dragMimeTypes: readonly string[] = [];

  async handleDrop(target: ViewNode | undefined, dataTransfer: vscode.DataTransfer, token: vscode.CancellationToken): Promise<void> {
    const sources = await droppedSources(dataTransfer);
    if (sources.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Drop a voice zip, a .pth file, a folder holding one, or a URL to one.'));
      return;
    }
    const folder = target && 'folder' in target ? target.folder.dir : undefined;
    for (const source of sources) {
      if (token.isCancellationRequested) return;
      await vscode.commands.executeCommand(`${COMMAND_PREFIX}addVoiceModel`, { source, ...(folder ? { folder } : {}) });
    }
  }
}
