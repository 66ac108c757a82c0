import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from './sqlite.ts';
import { fileTimestamp } from '../util/time.ts';

export const BACKUPS_KEPT = 5;
const BACKUP_FILE = /^studio-v(\d+)-(.+)\.db$/;

export interface BackupInfo {
  path: string;
  schemaVersion: number;
  createdAt: string;
  size: number;
}

export function backupsDir(storeDir: string): string {
  return path.join(storeDir, 'backups');
}

/** Newest first. The timestamp in the name sorts lexicographically, so no stat is needed to order. */
export function listBackups(storeDir: string): BackupInfo[] {
  const dir = backupsDir(storeDir);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((file) => ({ file, match: BACKUP_FILE.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .sort((a, b) => (a.match[2]! < b.match[2]! ? 1 : a.match[2]! > b.match[2]! ? -1 : 0))
    .map(({ file, match }) => {
      const full = path.join(dir, file);
      return { path: full, schemaVersion: Number(match[1]), createdAt: match[2]!, size: fs.statSync(full).size };
    });
}

/**
 * Writes a consistent copy of a live database with VACUUM INTO (SQLite's online snapshot: other
 * connections keep reading and writing meanwhile) to a temporary name, then renames it into place so
 * a crash never leaves a half-written backup under a real name.
 */
export function writeBackup(db: Database, storeDir: string, schemaVersion: number): string {
  const dir = backupsDir(storeDir);
  fs.mkdirSync(dir, { recursive: true });
  let target = path.join(dir, `studio-v${schemaVersion}-${fileTimestamp()}.db`);
  for (let n = 1; fs.existsSync(target); n++) {
    target = path.join(dir, `studio-v${schemaVersion}-${fileTimestamp()}-${n}.db`);
  }
  const partial = target + '.partial';
  fs.rmSync(partial, { force: true });
  db.prepare('VACUUM INTO ?').run(partial);
  fs.renameSync(partial, target);
  pruneBackups(storeDir);
  return target;
}

export function pruneBackups(storeDir: string, keep: number = BACKUPS_KEPT): string[] {
  const removed: string[] = [];
  for (const backup of listBackups(storeDir).slice(keep)) {
    fs.rmSync(backup.path, { force: true });
    removed.push(backup.path);
  }
  return removed;
}
