import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isMissingFile } from '../core/util/errors.ts';

/** Terminals want CRLF; RVC's tqdm bars use bare CR to redraw a line, which is kept. */
export function toTerminalText(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/**
 * A read-only terminal that streams a task's log file: everything written so far, then each new
 * chunk as the file grows (a watcher on the folder, no polling). `end()` prints the outcome and
 * stops following; the terminal stays open for the user to read.
 */
export class LogTailPty implements vscode.Pseudoterminal {
  private readonly file: string;
  private readonly written = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.written.event;
  private offset = 0;
  private watcher: fs.FSWatcher | undefined;
  private opened = false;
  private ended: string | undefined;
  private decoder = new TextDecoder('utf-8');

  constructor(file: string) {
    this.file = file;
  }

  open(): void {
    this.opened = true;
    this.readMore();
    if (this.ended !== undefined) {
      this.written.fire(this.ended);
      return;
    }
    try {
      const name = path.basename(this.file);
      this.watcher = fs.watch(path.dirname(this.file), { persistent: false }, (_event, changed) => {
        if (!changed || String(changed) === name) this.readMore();
      });
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      // the folder is gone; what was read is all there is
    }
  }

  close(): void {
    this.stopWatching();
  }

  /** Reads whatever the log gained since the last read. */
  readMore(): void {
    if (!this.opened) return;
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'r');
    } catch (error) {
      if (!isMissingFile(error)) throw error;
      return; // not created yet
    }
    try {
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const read = fs.readSync(fd, buffer, 0, buffer.length, this.offset);
        if (read <= 0) break;
        this.offset += read;
        this.written.fire(toTerminalText(this.decoder.decode(buffer.subarray(0, read), { stream: true })));
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  end(summary: string): void {
    this.readMore();
    this.stopWatching();
    this.ended = `\r\n\x1b[1m── ${summary} ──\x1b[0m\r\n`;
    if (this.opened) this.written.fire(this.ended);
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
